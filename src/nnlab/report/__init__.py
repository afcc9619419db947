"""Reports for people: `render` writes the HTML/Markdown report of one run directory and the
atlas of many; `tables` formats rows as aligned text for the terminal; `browser` launches the
headless Chromium that the browser tests and benchmarks drive. Importing the package loads
nothing: `nnlab --help` stays fast.
"""
