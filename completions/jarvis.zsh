
#compdef jarvis

_jarvis_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _JARVIS_COMPLETE=complete_zsh jarvis)
}

compdef _jarvis_completion jarvis

