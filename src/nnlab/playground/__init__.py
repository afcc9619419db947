"""nnlab playground: a web page that trains the NumPy engine (`nnlab.scratch`) live.

    nnlab playground [--host 127.0.0.1] [--port 8765] [--open] [--allow-remote]

`settings` is the page's state (validated with pydantic), `datasets` the 2-D data,
`session` one tab's state and training, `render` the pictures and exported code drawn from its
network, `app` the FastAPI server, `guard` what the server lets in (Host, Origin, token, body
size), `static/` the page (plain HTML, CSS and JavaScript, no build step, nothing from the
network). Needs the `web` extra (`pip install -e '.[web]'`: fastapi and uvicorn).

The URL hash
------------
The page keeps its whole state in the hash, ``#key=value&key=value...``; a link restores it.

* Every field of `settings.Settings` (what is trained and how): ``dataset``, ``classes``,
  ``custom_target``, ``n_points``, ``noise``, ``train_share``, ``seed``, ``inputs``, ``hidden``,
  ``activations``, ``loss``, ``optimizer``, ``learning_rate``, ``batch_size``,
  ``regularization``, ``reg_rate``, ``dropout``, ``init``, ``stop_loss``. Lists are
  comma-separated (``hidden=8,8``). Values the server rejects make the page start from the
  defaults and say why.
* Display only: ``show_test``, ``discretize`` (true/false), ``paint`` (the class a click adds),
  ``warp`` (the hidden layer the warp view shows, 1 = the first; 0 = off).
* ``points`` (with ``dataset=custom`` only): your own points, clicked or uploaded, as
  ``x1,x2,label`` rows joined by ``;`` -- coordinates to 2 decimals, regression values
  (``custom_target=value``) to 3; a fourth field ``0`` marks a test point. At most 2000
  (`settings.MAX_POINTS`); a malformed row is skipped, and the server checks the rest as any
  request (422 naming the field).
* ``hide``: teaching flags, a comma-separated list of control groups the page does not render
  (and that cannot be changed there): ``dataset``, ``classes``, ``n_points``, ``noise``,
  ``train_share``, ``regenerate``, ``own_points`` (clicking, CSV, clear), ``inputs`` (the unused
  features), ``layers`` (adding/removing layers and neurons), ``activation``, ``loss``,
  ``optimizer``, ``learning_rate``, ``batch_size``, ``regularization`` (and its rate),
  ``dropout``, ``init``, ``stop_loss``, ``show_test``, ``discretize``, ``curves``,
  ``confusion``, ``warp``, ``export``, ``teaching``. Unknown names are ignored (and dropped
  from the hash), so a link made by a newer page still opens. The page's "teaching link" box
  writes such a link with ticks, without hiding anything on the teacher's own page.

For example ``#dataset=xor&hidden=4&activations=tanh&warp=1&hide=dataset,noise,optimizer``.

Own data
--------
Click the output picture to add a point of the chosen class, or upload a CSV: a header
``x1,x2,label`` (classes 0-4) or ``x1,x2,value`` (a real target in [-1, 1]: regression, like
plane and multigauss) and one row per point with x1, x2 in [-6, 6]. Without a header the data
in use decides which. A bad file is one line saying which line is wrong and why, on the page
and in the server's 422.

The warp view
-------------
For a hidden layer of two neurons or more, the server maps a regular grid of input lines
(x1 = -6..6 and x2 = -6..6 in steps of 1) and every data point through the network up to that
layer, in one batched forward pass (``GET /api/sessions/{id}/warp?layer=0``), and the page
draws the image: how the layer bends the plane (C. Olah, "Neural networks, manifolds and
topology"). A layer of more than two neurons is shown through its first two, a projection the
caption names; a fixed projection keeps the picture steady while the network trains.
"""
