from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（区）")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


# The order of levels, highest first; "one level up" and scope checks use it.
LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]


class UnitKind(models.TextChoices):
    GOVERNMENT = "government", _("党委政府")
    PETITION_OFFICE = "petition_office", _("信访办")
    POVERTY_OFFICE = "poverty_office", _("乡村振兴局（扶贫办）")
    BUREAU = "bureau", _("行业部门")
    OFFICE = "office", _("股室")
    LINE_OFFICE = "line_office", _("线办")
    AREA_TEAM = "area_team", _("片区工作组")
    DISCIPLINE = "discipline", _("纪委监察委")
    TOWNSHIP = "township", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


class Role(models.TextChoices):
    CLERK = "clerk", _("经办人")
    APPROVER = "approver", _("分管领导")
    CHIEF = "chief", _("主要领导")
    UNIT_HANDLER = "unit_handler", _("承办单位经办人")
    PROXY_AGENT = "proxy_agent", _("代办员")
    LINE_HEAD = "line_head", _("线办（工作组）负责人")
    DISCIPLINE = "discipline", _("纪检监察")
    INSPECTOR = "inspector", _("督查")
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITOR = "auditor", _("审计管理员")


ADMIN_ROLES = {Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR}
