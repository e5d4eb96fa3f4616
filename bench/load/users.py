"""The simulated users: asyncio + httpx against the pages, as a browser would use them.

Each user signs in, then loops until the deadline: open the work queue, open a case from it, act
on it when the role has something to do there, now and then register a new case (clerks). The
requests go to gunicorn directly but as if through the TLS proxy: ``X-Forwarded-Proto: https``
and a ``X-Forwarded-For`` address of the user's own, which the server believes because the
loopback is its trusted proxy (XINFANG_TRUSTED_PROXIES) — the production path, secure cookies
and all (kept here by hand: httpx would not send a Secure cookie over the plain loopback).

Request kinds timed: login, queue, case, register_form, register, act:<transition>. A user acts
only on the cases of its own share (pk modulo the number of users of its role), as colleagues
split a queue, so two users rarely race on one case; a race that happens answers 409 (the
version check) and is counted as a conflict, not an error. Errors are transport failures,
5xx, and any other status than the one the step expects.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
ACT = re.compile(r"^/cases/(\d+)/act/([a-z_]+)/$")
# What each role does on a case page when the form is offered (first offered wins).
ROLE_ACTIONS = {
    "clerk": ("propose", "assign"),
    "approver": ("sign_off",),
    "handler": ("sign_for", "log_contact"),
    "inspector": (),
}
TEXT = {
    "propose-proposal": "建议交由将官池镇人民政府主办，十五日内核实并答复。",
    "sign_off-note": "同意。",
    "assign-receiver_name": "陈晓东",
    "log_contact-note": "电话联系信访人，告知办理进度。",
}


# -- forms out of the HTML -------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    values: list[tuple[str, str]] = field(default_factory=list)
    selects: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name → (value, label)

    def data(self, overrides: dict[str, str]) -> list[tuple[str, str]]:
        out = [(k, v) for k, v in self.values if k not in overrides]
        return out + list(overrides.items())


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: tuple[str, bool] | None = None  # (name, multiple)
        self.select_chosen: list[str] = []
        self.option: tuple[str, bool] | None = None
        self.option_text = ""
        self.textarea: str | None = None
        self.textarea_text = ""

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self.form.values.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.select = (a["name"], "multiple" in a)
            self.select_chosen = []
            self.form.selects[a["name"]] = []
        elif tag == "option" and self.select is not None:
            self.option = (a.get("value", ""), "selected" in a)
            self.option_text = ""
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.textarea_text = a["name"], ""

    def handle_data(self, data):
        if self.option is not None:
            self.option_text += data
        if self.textarea is not None:
            self.textarea_text += data

    def handle_endtag(self, tag):
        if tag == "option" and self.option is not None and self.select is not None:
            value, selected = self.option
            self.form.selects[self.select[0]].append((value, self.option_text.strip()))
            if selected:
                self.select_chosen.append(value)
            self.option = None
        elif tag == "select" and self.select is not None:
            name, multiple = self.select
            options = self.form.selects[name]
            chosen = [v for v in self.select_chosen if v]
            if chosen:
                self.form.values += [(name, v) for v in chosen]
            elif options and not multiple:  # a person picks something: the first real option
                picked = [v for v, _label in options if v] or [options[0][0]]
                self.form.values.append((name, picked[0]))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.form.values.append((self.textarea, self.textarea_text.strip("\n")))
            self.textarea = None
        elif tag == "form":
            self.form = None


def forms_of(html: str) -> list[Form]:
    p = FormParser()
    p.feed(html)
    return p.forms


# -- one user --------------------------------------------------------------------------------------


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)  # the first few errors, for the report

    def add(self, kind: str, seconds: float) -> None:
        self.times.setdefault(kind, []).append(seconds)

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 20:
            self.samples.append(f"{kind}: {what}"[:300])


class User:
    def __init__(self, client: httpx.AsyncClient, base: str, who: dict, password: str,
                 stats: Stats, think: float, address: str, rng: random.Random):
        self.client, self.base, self.who, self.password = client, base, who, password
        self.stats, self.think, self.rng = stats, think, rng
        self.cookies: dict[str, str] = {}
        self.headers = {
            "X-Forwarded-For": address,
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{base.split('://', 1)[1]}",
        }

    async def request(self, kind: str, method: str, path: str, *, expect: tuple[int, ...],
                      data=None) -> httpx.Response | None:
        headers = dict(self.headers)
        headers["Referer"] = f"{self.headers['Origin']}{path}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(data, list):  # repeated names (multiple choices) as lists
            merged: dict[str, list[str]] = {}
            for k, v in data:
                merged.setdefault(k, []).append(v)
            data = merged
        started = time.perf_counter()
        try:
            r = await self.client.request(method, self.base + path, headers=headers, data=data)
        except httpx.HTTPError as e:
            self.stats.error(kind, f"{type(e).__name__}: {e}")
            return None
        self.stats.add(kind, time.perf_counter() - started)
        self.client.cookies.clear()  # one client for all users: each keeps its own cookies
        for line in r.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(line)
            for k, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[k] = morsel.value
                else:
                    self.cookies.pop(k, None)
        if r.status_code == 409 and 409 not in expect:
            self.stats.conflicts[kind] = self.stats.conflicts.get(kind, 0) + 1
            return None
        if r.status_code not in expect:
            if os.environ.get("LOAD_DUMP"):
                Path(os.environ["LOAD_DUMP"]).write_text(r.text)
            said = re.findall(r'class="error"[^>]*>(.*?)</(?:small|p|div|ul)>', r.text, re.S)
            detail = " ".join(re.sub(r"<[^>]+>", " ", x).split()[0:20] and
                              " ".join(re.sub(r"<[^>]+>", " ", x).split()) for x in said)
            self.stats.error(kind, f"{method} {path} → {r.status_code} {detail or r.text[:160]!r}")
            return None
        return r

    async def pause(self) -> None:
        if self.think:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    async def login(self) -> bool:
        r = await self.request("login_form", "GET", "/login/", expect=(200,))
        if r is None:
            return False
        data = {"username": self.who["username"], "password": self.password,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        for f in forms_of(r.text):
            if f.method == "post":
                data = dict(f.data(data))
        r = await self.request("login", "POST", "/login/", expect=(302,), data=data)
        return r is not None

    def mine(self, pk: int) -> bool:
        return pk % self.who["of"] == self.who["index"]

    async def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.round()

    async def round(self) -> None:
        role = self.who["role"]
        if role == "clerk" and self.rng.random() < 0.3:
            await self.register()
            await self.pause()
        r = await self.request("queue", "GET", "/work/", expect=(200,))
        await self.pause()
        if r is None:
            return
        pks = [int(p) for p in CASE_LINK.findall(r.text)]
        if not pks:
            return
        own = [p for p in pks if self.mine(p)]
        pk = self.rng.choice(own or pks)
        r = await self.request("case", "GET", f"/cases/{pk}/", expect=(200,))
        await self.pause()
        if r is None or not self.mine(pk):
            return
        offered = {}
        for f in forms_of(r.text):
            m = ACT.match(f.action)
            if m and f.method == "post":
                offered[m[2]] = f
        for name in ROLE_ACTIONS[role]:
            if name in offered:
                await self.act(pk, name, offered[name])
                await self.pause()
                break

    async def act(self, pk: int, name: str, form: Form) -> None:
        overrides = {k: v for k, v in TEXT.items() if k.startswith(name + "-")}
        if name == "assign":
            options = form.selects.get("assign-lead", [])
            lead = [v for v, label in options if "将官池镇" in label]
            lead = lead or [v for v, _label in options if v]
            if lead:
                overrides["assign-lead"] = lead[0]
        overrides["csrfmiddlewaretoken"] = self.cookies.get("csrftoken", "")
        await self.request(f"act:{name}", "POST", form.action, expect=(302,),
                           data=form.data(overrides))

    async def register(self) -> None:
        r = await self.request("register_form", "GET", "/register/", expect=(200,))
        if r is None:
            return
        forms = [f for f in forms_of(r.text) if f.method == "post" and "matter" in dict(f.values)]
        if not forms:
            self.stats.error("register_form", "no registration form on /register/")
            return
        f = forms[0]
        n = self.rng.randrange(10**6)
        now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
        township = [v for v, label in f.selects.get("township", []) if "将官池镇" in label]
        category = [v for v, _ in f.selects.get("d-0-category", []) if v]
        overrides = {
            "received_at": now,
            "matter": f"反映危房改造补助未到位（压测 {n}）。",
            "p-0-name": f"压测{n % 1000:03d}",
            "p-0-phone": f"139{n:08d}",
            "d-0-text": "请求核实补助发放情况。",
            "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
        }
        if township:
            overrides["township"] = township[0]
        if category:
            overrides["d-0-category"] = category[0]
        await self.request("register", "POST", "/register/", expect=(302,),
                           data=f.data(overrides))


async def run_users(base: str, users: list[dict], password: str, *, duration: float,
                    think: float, seed: int = 1) -> Stats:
    stats = Stats()
    limits = httpx.Limits(max_connections=len(users) + 5, max_keepalive_connections=len(users))
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, follow_redirects=False) as client:
        sims = [
            User(client, base, who, password, stats, think, f"10.16.{i // 250}.{i % 250 + 1}",
                 random.Random(seed * 1000 + i))
            for i, who in enumerate(users)
        ]
        # Everyone signs in first (timed as login); the clock for the duration starts after.
        signed_in = await asyncio.gather(*(u.login() for u in sims))
        deadline = time.monotonic() + duration
        running = [u for u, ok in zip(sims, signed_in, strict=True) if ok]
        await asyncio.gather(*(u.run(deadline) for u in running))
    return stats
