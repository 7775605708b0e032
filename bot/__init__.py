"""Sportello B2's front ends: the command line now; Telegram and the console next."""
