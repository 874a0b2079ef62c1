"""What operators watch: each request's id and timing (``timing``) and its log lines (``logs``).

``gunicorn.conf.py`` reads ``logs`` before any worker starts.
"""
