"""Sign-in, sessions and accounts: passwords, throttling, two-factor sign-in, the security log."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Trust the configured number of proxies for the client address, and set up the sign-in throttle."""
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # X-Forwarded-For gives request.remote_addr (the throttle and the security log use it);
        # X-Forwarded-Proto tells the app the browser spoke HTTPS to the proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from crm.accounts.throttle import init_throttle

    init_throttle(app)
