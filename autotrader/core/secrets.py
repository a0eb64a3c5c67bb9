"""How secrets look when something must be shown: masked keys, URLs without their credentials.

A credential hides in more places than ``OPENAI_API_KEY``: the password of
``postgresql://user:pass@host/db``, a token as the user of ``https://TOKEN@host``, or a query
parameter such as ``?api_key=...``. :func:`mask_url` hides those parts and keeps the rest
readable (scheme, host, path, other parameters); :func:`url_credentials` lists them, so the log
redaction filter can be given them like any other secret. Pure string functions, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MASK = "****"
# Query parameters whose value is a credential: api_key, apikey, access_token, X-Amz-Signature,
# client_secret, password, auth, sig ... (matched anywhere in the name, case-insensitively).
_SECRET_PARAMETER = re.compile(r"(?i)key|token|secret|passw|pwd|auth|sig|credential")
_PARAMETER = re.compile(r"(?P<name>[^&=;]*)=(?P<value>[^&;]*)")
# ``user:password@`` wherever it stands, also in a URL a ``Path`` has collapsed
# (``postgresql://u:p@h/db`` read as a path prints as ``postgresql:/u:p@h/db``).
_USERINFO = re.compile(r"(?P<user>[^\s:/@]+):(?P<password>[^\s/@]+)@")


def mask_secret(secret: str) -> str:
    """A long secret keeps its first three and last four characters (``sk-…WXYZ``), so two keys
    can be told apart; a short one is all stars."""
    if len(secret) >= 12:
        return f"{secret[:3]}…{secret[-4:]}"
    return "********"


def is_url(text: str) -> bool:
    """True for ``scheme://host...`` text (any scheme)."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc)


def url_credentials(url: str) -> list[str]:
    """The secret parts of ``url``: the user-info password (or a user given without one, which
    is how tokens are embedded) and the values of credential-named query parameters, both as
    written and percent-decoded. Empty for text that is not a URL."""
    if not is_url(url):
        return []
    parts = urlsplit(url.strip())
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        found.append(password if colon else user)
    for match in _PARAMETER.finditer(parts.query):
        if _SECRET_PARAMETER.search(match["name"]):
            found.append(match["value"])
    found = [value for value in found if value]
    return list(dict.fromkeys(found + [unquote(value) for value in found]))


def credentials_in(text: str) -> list[str]:
    """Every credential :func:`mask_credentials` hides in ``text``."""
    found = url_credentials(text) + [m["password"] for m in _USERINFO.finditer(text)]
    return list(dict.fromkeys(found))


def mask_credentials(text: str) -> str:
    """``text`` with the credentials of a URL in it masked (:func:`mask_url`), and any other
    ``user:password@`` too."""
    return _USERINFO.sub(lambda m: f"{m['user']}:{MASK}@", mask_url(text))


def mask_url(url: str) -> str:
    """``url`` with each of its credentials replaced by ``****``; text that is not a URL is
    returned unchanged (callers decide whether such text may be shown)."""
    if not is_url(url):
        return url
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    query = _PARAMETER.sub(
        lambda m: f"{m['name']}={MASK}" if _SECRET_PARAMETER.search(m["name"]) else m[0],
        parts.query,
    )
    text = f"{parts.scheme}://{netloc}{parts.path}"
    text += f"?{query}" if parts.query else ""
    return text + (f"#{parts.fragment}" if parts.fragment else "")
