"""A browser's part in the Django admin, over HTTP: log in, read a form as the page has it,
post it back with its CSRF token. `python manage.py edit_schedule` changes the schedule the
way a person at the admin does, through the running site (SITE_URL)."""

import html
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

from django.conf import settings


class FormFields(HTMLParser):
    """The fields of each <form> on a page, as a browser would send them: text and hidden
    inputs, checked boxes, each select's selected option, textareas."""

    def __init__(self):
        super().__init__()
        self.forms = []  # [(action, {name: value})]
        self.fields = self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.fields = {}
            self.forms.append((a.get("action", ""), self.fields))
        elif self.fields is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.fields[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.fields = None

    def handle_data(self, data):
        if self.textarea and self.fields is not None:
            self.fields[self.textarea] += data

    def main_form(self):
        """The page's form, not the header's log-out button (a form of its own)."""
        for action, fields in self.forms:
            if "csrfmiddlewaretoken" in fields and not action.endswith("/logout/"):
                return fields
        return None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is the answer itself: the caller shows it, then follows it


class AdminSession:
    """One logged-in browser: cookies (csrftoken, sessionid) kept between requests."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies),
                                                  NoRedirect)

    def request(self, path, data=None, wait_for_server=3.0):
        """(status, Location header, page text) of a GET, or of a POST when data is given.
        Waits up to wait_for_server seconds for a server that is still starting."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(settings.SITE_URL + path, data=body)
        deadline = time.monotonic() + wait_for_server
        while True:
            try:
                with self.opener.open(request, timeout=15) as response:
                    return response.status, response.headers.get("Location"), response.read().decode()
            except urllib.error.HTTPError as error:  # 302 (not followed), 4xx, 5xx
                return error.code, error.headers.get("Location"), error.read().decode()
            except urllib.error.URLError:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise SystemExit(f"[!] nothing answers at {settings.SITE_URL}: is the web server "
                                 "running in another terminal (python manage.py runserver), and "
                                 "SITE_URL its address?")

    def form(self, path):
        """The fields of the form on the page at path, as a browser would post them back."""
        status, _, page = self.request(path)
        if status != 200:
            raise SystemExit(f"[!] GET {path} answered {status}")
        parser = FormFields()
        parser.feed(page)
        fields = parser.main_form()
        if fields is None:
            raise SystemExit(f"[!] GET {path}: no form with a CSRF token on the page")
        return fields

    def submit(self, path, changes):
        """Post the form at path with changes applied; (status, where it led, message)."""
        fields = {**self.form(path), **changes}
        status, location, page = self.request(path, fields)
        if status != 302:  # the admin shows the form again with its errors
            errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
            text = " ".join(re.sub(r"<[^>]+>", " ", e).split() for e in errors)
            raise SystemExit(f"[!] POST {path} answered {status}: {text or page[:300]}")
        return status, location, self.message(location)

    def message(self, location):
        """The admin's "... was changed successfully" line on the page a 302 led to."""
        _, _, page = self.request(urllib.parse.urlparse(location).path)
        found = re.search(r'<li class="success">(.*?)</li>', page, re.S)
        return html.unescape(re.sub(r"<[^>]+>", "", found[1])).strip() if found else ""

    def log_in(self, username, password):
        path = "/admin/login/?next=/admin/"
        fields = self.form(path)
        status, location, page = self.request(path, {**fields, "username": username,
                                                     "password": password})
        if status != 302:
            raise SystemExit(f"[!] the admin refused the login of {username!r} ({status})")
        return status
