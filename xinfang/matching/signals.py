"""A person's fuzzy-name keys follow the person: every save through the ORM refreshes them."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from xinfang.cases.models import Petitioner


@receiver(post_save, sender=Petitioner, dispatch_uid="matching.person_keys")
def _keep_keys(sender, instance: Petitioner, created: bool = False, raw: bool = False,
               **kwargs) -> None:
    if raw:  # fixtures load the keys table themselves
        return
    from .services import person_keys_refresh

    person_keys_refresh(instance, created=created)
