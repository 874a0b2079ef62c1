"""What operators watch: each request's id and timing (``timing``), log lines (``logs``) and the
Prometheus metrics at ``/metrics`` (``metrics``).

``create_app`` wires each module in. ``gunicorn.conf.py`` reads ``logs`` before any worker starts,
so nothing imported here may import ``prometheus_client`` (which picks its multiprocess mode when
first imported): the submodules are imported by name, never from this file.
"""
