"""What operators watch: each request's id and timing (``timing``)."""
