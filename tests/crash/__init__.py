"""Crash and kill tests (SIGKILL during rekey) and their helper programs."""
