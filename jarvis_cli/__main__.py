from jarvis_cli.cli import main

main()
