"""The local Telegram: a Bot API emulator and its web page, a program of its own (``python -m sandbox``).

    server.py, request_parsing.py, control.py, webhook.py   HTTP: the Bot API, the test API, webhook delivery
    world.py     the Bot API door (dispatch, faults, the call log) over users.py (the users' side) and state.py
    methods/     the Bot API methods by area;  spec.py, text.py: validation against bot-api.json, entity parsing
    model.py, calls.py, errors.py, limits.py   the things in the world, the call log, errors, flood limits
    web.py, web/   the page where one person plays every role

It imports nothing of the bot: the bot reaches it only over HTTP (``TELEGRAM_API_URL``). See docs/sandbox.md.
"""
