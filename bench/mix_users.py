"""The locustfile of bench/mix.py: signed-in members reading and writing about 9 to 1, organizers on the API.

It reads the sessions `bench/mix.py` prepared (cookies, CSRF tokens, ids) from the JSON file that
`MIX_TARGETS` names; `MIX_RATE_PER_USER` (requests/s per user) paces a run below the peak.
"""

import html
import itertools
import json
import os
import random
import re
from datetime import date, timedelta
from pathlib import Path

from locust import FastHttpUser, constant, task

TARGETS = json.loads(Path(os.environ["MIX_TARGETS"]).read_text()) if "MIX_TARGETS" in os.environ else {}
RATE = float(os.environ.get("MIX_RATE_PER_USER", "0"))
# Which of the bench's runs against one database this is: each run writes its own pairs and dates.
RUN, RUNS = int(os.environ.get("MIX_RUN", "0")), 2
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# A refused form's message: a field's error or the form's alert (templates/_forms.html).
REFUSAL = re.compile(r'<p class="error"[^>]*>(.*?)</p>|role="alert">\s*<p>(.*?)</p>', re.S)
_members = itertools.cycle(TARGETS.get("members", [{}]))
_organizers = itertools.cycle(TARGETS.get("organizers", [{}]))


def _wait():
    """No wait at the peak. Below it, a random wait of mean 1 / rate before each request, so that the
    users' requests arrive at random moments (a Poisson stream), as independent members' do; a
    constant throughput per user, every user started at the same instant, kept them in step: all of
    them at once, once a period, queued behind each other."""
    return (lambda user: random.expovariate(RATE)) if RATE else constant(0)


def _refusal(page: str | None) -> str:
    """The message a refused form shows, without its markup (the member's names included)."""
    found = REFUSAL.search(page or "")
    if found is None:
        return "no message"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1) or found.group(2)))


class Visitor(FastHttpUser):
    """A member's browser or an organizer's script, paced by `_wait`, its first request too."""

    abstract = True
    wait_time = _wait()

    def on_start(self):
        self.wait()


class Member(Visitor):
    """A member of one chapter, signed in, doing what members do: each write is 1 in 10 requests."""

    def on_start(self):
        super().on_start()
        self.me = next(_members)
        self.headers = {"Cookie": self.me["cookie"]}
        self.rng = random.Random(self.me["id"])
        # The pairs this member introduces: its own share of the chapter's, so no two sessions
        # introduce the same pair (a pair already waiting is refused, rightly).
        self.pairs = iter(self.me["pairs"][RUN::RUNS])
        # One-to-ones on days no other session of the chapter uses (its slot, modulo 4), a new day
        # each time: two members log the same meeting on the same day once only, rightly. The days are
        # 331–364 days ago, older than the demo's history (0–330) and within the twelve months allowed.
        first_day = 331 + self.me["slot"] + 16 * RUN
        self.days = iter(range(first_day, first_day + 16, 4))

    def _get(self, name: str, path: str):
        self.client.get(path, name=name, headers=self.headers)

    def _post(self, name: str, path: str, fields: dict):
        body = {**fields, "csrf_token": self.me["csrf"]}
        with self.client.post(
            path,
            name=name,
            data=body,
            headers=self.headers | FORM,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:  # every valid form answers with a redirect
                response.failure(f"answered {response.status_code}: {_refusal(response.text)}")

    @task(16)
    def dashboard(self):
        self._get("dashboard", "/dashboard")

    @task(16)
    def board(self):
        self._get("needs board", f"/chapters/{self.me['slug']}/")

    @task(8)
    def need(self):
        self._get("need page", f"/needs/{self.me['need_id']}")

    @task(8)
    def profile(self):
        self._get("member profile", f"/members/{self.rng.choice(self.me['peers'])}")

    @task(8)
    def directory(self):
        self._get(
            "directory ?q=", f"/chapters/{self.me['slug']}/members?q={self.rng.choice(self.me['words'])}"
        )

    @task(8)
    def ledger(self):
        self._get("ledger", "/ledger")

    @task(8)
    def introductions(self):
        self._get("introductions", "/introductions")

    @task(2)
    def post_need(self):
        fields = {"title": "Who knows a good commercial landlord?", "details": "Moving the shop next spring."}
        self._post("POST need", f"/chapters/{self.me['slug']}/needs/new", fields | {"category": "referral"})

    @task(2)
    def introduce(self):
        pair = next(self.pairs, None)
        if pair is None:
            return self.dashboard()  # this member has introduced every pair it owns
        # Introducers write each note for its pair: the app refuses a note used before.
        note = f"Members {pair[0]} and {pair[1]}, talk: one sells what the other's clients keep asking for."
        fields = {"first_id": pair[0], "second_id": pair[1], "chapter": self.me["slug"], "note": note}
        self._post("POST introduction", "/introductions/new", fields)

    @task(2)
    def one_to_one(self):
        days_ago = next(self.days, None)
        if days_ago is None:
            return self.dashboard()  # this member has used every day it owns
        met_on = date.today() - timedelta(days=days_ago)
        fields = {"met_on": met_on.isoformat(), "meeting_note": "Coffee and a walk round the market."}
        self._post("POST one-to-one", f"/members/{self.rng.choice(self.me['peers'])}/one-to-ones", fields)

    @task(2)
    def edit_profile(self):
        headline = f"Helping owners since {self.rng.randrange(1990, 2025)}"
        self._post("POST profile", "/profile", {"display_name": self.me["name"], "headline": headline})


class Organizer(Visitor):
    """An organizer's script reading its chapter's figures from the API with a bearer token."""

    fixed_count = int(os.environ.get("MIX_ORGANIZERS", "10"))

    def on_start(self):
        super().on_start()
        me = next(_organizers)
        self.api = f"/api/v1/chapters/{me['slug']}"
        self.headers = {"Authorization": f"Bearer {me['token']}"}

    @task
    def summary(self):
        self.client.get(f"{self.api}/summary", name="API summary", headers=self.headers)

    @task
    def members(self):
        self.client.get(f"{self.api}/members", name="API members", headers=self.headers)

    @task
    def needs(self):
        self.client.get(f"{self.api}/needs?status=open", name="API needs", headers=self.headers)

    @task
    def introductions(self):
        self.client.get(f"{self.api}/introductions", name="API introductions", headers=self.headers)


class Bare(FastHttpUser):
    """The yardstick: the bare endpoint asked as fast as it answers, by as many users as the mix."""

    wait_time = constant(0)

    @task
    def hello(self):
        self.client.get("/", name="bare Flask")
