"""The questionnaire: which fact to ask next, how to ask it, how to parse the answer."""
