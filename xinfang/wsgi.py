"""The WSGI entry point for application servers (gunicorn: ``make serve``, deploy/).

It defaults to the **production** settings — DEBUG off, secrets from the environment — so a
server pointed at ``xinfang.wsgi:application`` never runs the demo's DEBUG-on settings by
accident; production settings refuse to start without their variables and name the missing one.
The demo (`make run`, ``xinfang serve``) sets ``DJANGO_SETTINGS_MODULE=xinfang.settings.local``
itself (the ``xinfang`` command's default) before anything imports this module.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.production")
application = get_wsgi_application()
