"""Running untrusted notebook code: a fork server with numpy loaded, a session per
submission, the messages and wire format between them, and the code that runs inside.
"""
