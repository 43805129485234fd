"""The web UI: order entry, live book, blotter and market controls, in process with the venue.

`web_service(venue, host, port)` is the listener to mount beside the OUCH listener; `WebApp`
is the Klein app (`WebApp(venue).resource()` for tests through `treq.testing.StubTreq`).
Templates and static files live in the top-level `web/` directory (see `pages.web_root`).
"""

from ouchsim.web.app import WebApp
from ouchsim.web.forms import FormError, form_specs, parse_message
from ouchsim.web.pages import MissingWebFiles, Pages, web_root
from ouchsim.web.service import OuchWebSite, WebService, build_site, web_service

__all__ = [
    "FormError",
    "MissingWebFiles",
    "OuchWebSite",
    "Pages",
    "WebApp",
    "WebService",
    "build_site",
    "form_specs",
    "parse_message",
    "web_root",
    "web_service",
]
