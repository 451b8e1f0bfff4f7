"""One page under load, as benchmarks/load.py asks through the environment:

    BENCH_NAME, BENCH_PATH, BENCH_METHOD (GET/POST), BENCH_DATA (JSON form fields),
    BENCH_COOKIE (the Cookie header: a session of the page's persona), BENCH_CSRF

Each simulated user sends its next request as soon as the previous one is answered
(closed loop): with 4 users, 4 requests are always in flight.
"""

import json
import os

from locust import FastHttpUser, constant, task


class PageUser(FastHttpUser):
    wait_time = constant(0)
    name = os.environ.get("BENCH_NAME", "page")
    path = os.environ.get("BENCH_PATH", "/")
    method = os.environ.get("BENCH_METHOD", "GET")
    data = json.loads(os.environ.get("BENCH_DATA") or "{}")
    headers = {"Cookie": os.environ.get("BENCH_COOKIE", "")}
    if os.environ.get("BENCH_CSRF"):
        headers["X-CSRFToken"] = os.environ["BENCH_CSRF"]

    @task
    def page(self):
        # A redirect (to the login page, say) would measure another page: count it as a failure.
        options = dict(headers=self.headers, name=self.name, allow_redirects=False, catch_response=True)
        if self.method == "POST":
            request = self.client.post(self.path, data=self.data, **options)
        else:
            request = self.client.get(self.path, **options)
        with request as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
