from jarvis_cli.launch import main

main()
