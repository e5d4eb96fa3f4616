"""The ``xinfang`` command: Django's management commands under the installation's settings.

``xinfang deadline …``, ``xinfang sweep``, ``xinfang calendar load FILE`` and the rest are
management commands of the apps; this entry point only chooses the settings module.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xinfang", *sys.argv[1:]])


if __name__ == "__main__":
    main()
