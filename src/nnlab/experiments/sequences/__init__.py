"""Sequence models. Character-level language models: a GPT (nanoGPT) and an LSTM on the same
text.
"""

TITLE = "Sequence models"
ORDER = ("char_gpt", "char_lstm", "date_seq2seq")
"""Its experiments' modules in the order the chapter teaches them."""
