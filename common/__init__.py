"""The neutral ground under every layer: the settings object, the clock helpers and the
gettext marker. Imports nothing of ours, so every package may import it."""
