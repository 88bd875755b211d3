from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from contoso_images.core.roles import ROLES


class Command(BaseCommand):
    help = "Create a user (or update an existing one) in the given role groups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            choices=sorted(ROLES),
            help="A role group; repeat for several.",
        )
        parser.add_argument("--password", help="Omit to generate one, which is printed.")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError("The username may not be empty.")
        groups = list(Group.objects.filter(name__in=options["group"]))
        if len(groups) != len(set(options["group"])):
            raise CommandError("A role group is missing; run `python manage.py migrate` first.")
        password = options["password"] or secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(username=username)
        user.email = options["email"] or user.email
        user.is_superuser = user.is_staff = options["superuser"]
        user.set_password(password)
        user.save()
        user.groups.set(groups)
        verb = "Created" if created else "Updated"
        names = ", ".join(g.name for g in groups) or "no groups"
        self.stdout.write(f"{verb} {username} ({names}) with password {password}")
