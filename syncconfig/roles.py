"""The portal's roles as Django groups, and the permissions each holds.

The groups are created by a data migration; their permissions are (re)assigned after every
``migrate`` so that permissions of models added later join the right roles.
"""
MARKETING_ADMIN = "Marketing admin"
SALES_OPS = "Sales ops"
FIELD_USER = "Field user"

_CRUD = ("add", "change", "delete", "view")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    MARKETING_ADMIN: [
        *(f"syncconfig.{action}_{model}" for model in ("connection", "sync", "fieldmapping", "recordtypechoice", "syncrule") for action in _CRUD),
        "syncconfig.view_syncrun",
        "syncconfig.view_recorderror",
        "syncconfig.change_recorderror",
        "syncconfig.view_recordlink",
        "syncconfig.view_recordlinkevent",
        "syncconfig.view_completenesscheck",
        "syncconfig.view_completenessitem",
        "syncconfig.run_sync",
        *(f"django_celery_beat.{action}_{model}" for model in ("periodictask", "intervalschedule", "crontabschedule") for action in _CRUD),
        *(f"dedupe.{action}_matchsource" for action in _CRUD),
        "dedupe.view_matchrun",
    ],
    SALES_OPS: [
        "dedupe.view_duplicategroup",
        "dedupe.change_duplicategroup",
        "dedupe.merge_duplicategroup",
        "dedupe.view_duplicatemember",
        "dedupe.view_mergejob",
        "dedupe.view_mergestep",
        "dedupe.view_matchrun",
        "dedupe.view_matchsource",
        "dedupe.view_notduplicate",
        "syncconfig.view_connection",
        "syncconfig.view_sync",
        "syncconfig.view_syncrun",
        "syncconfig.view_recorderror",
        "syncconfig.view_recordlink",
        "syncconfig.view_recordlinkevent",
        "syncconfig.view_completenesscheck",
        "syncconfig.view_completenessitem",
    ],
    FIELD_USER: [
        "syncconfig.push_captured_contacts",
    ],
}

# Roles whose members work in the admin; field users only use the portal's own pages.
STAFF_ROLES = {MARKETING_ADMIN, SALES_OPS}


def assign_permissions(group_model, permission_model):
    """Make sure each role group exists and holds exactly the permissions listed for it.

    Runs after every migrate and after a test database flush (both emit post_migrate).
    """
    for name in ROLE_PERMISSIONS:
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = ROLE_PERMISSIONS[group.name]
        perms = []
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            perms.extend(permission_model.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)


def on_post_migrate(sender, apps=None, **kwargs):
    if apps is None:  # flush emits post_migrate without the migration state's registry
        from django.apps import apps
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    assign_permissions(group_model, permission_model)
