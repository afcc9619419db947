"""nnlab playground: a web page that trains the NumPy engine (`nnlab.scratch`) live.

    nnlab playground [--host 127.0.0.1] [--port 8765] [--open]

`settings` is the page's state (validated with pydantic), `datasets` the 2-D data,
`session` one tab's training and frames, `app` the FastAPI server, `static/` the page (plain
HTML, CSS and JavaScript, no build step, nothing from the network). Needs the `web` extra
(`pip install -e '.[web]'`: fastapi and uvicorn).
"""
