"""Applications. The pieces put to work: reading pages (OCR), pretrained networks, and your own
images.
"""

TITLE = "Applications"
ORDER = ("ocr", "pretrained_eval", "image_folder", "fine_tuning")
"""Its experiments' modules in the order the chapter teaches them."""
