"""The seed's ten steps (创建全国文明城市工作步骤（社区版）) and their sub-items, in Chinese as the
seed writes them and in English. Loaded by the migration ``0002_catalogue``; the administrator
edits them afterwards (``admin.py``)."""

from __future__ import annotations

from typing import Any

STEPS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("成立创建工作领导小组", "Set up the campaign's leading group", [
        ("明确职责", "Duties assigned"),
        ("定期会议", "Regular meetings"),
        ("工作督导", "Work supervision"),
        ("阶段验收", "Stage acceptance plan"),
    ]),
    ("创建工作宣传", "Publicity", [
        ("广播", "Broadcasts"),
        ("倡议书", "Letters of proposal"),
        ("电子屏", "Electronic screens"),
        ("公益广告", "Public-service posters"),
        ("宣传栏", "Notice boards"),
    ]),
    ("环境整治", "Environment clean-up", [
        ("清理小广告、墙面涂写", "Flyers and graffiti removed"),
        ("清理环境卫生死角", "Neglected corners cleaned"),
        ("修剪绿植、清理杂草", "Greenery trimmed, weeds cleared"),
        ("清理垃圾桶及垃圾临时摆放点", "Bins and temporary refuse spots cleaned"),
        ("清理摆摊设点", "Street stalls cleared"),
        ("商户门脸规范", "Shop fronts in order"),
        ("楼体外观治理", "Building facades repaired"),
    ]),
    ("停车治理", "Parking", [
        ("专用停车场建设", "Car parks built"),
        ("路口道闸、停车识别", "Barriers and plate recognition at entrances"),
        ("路面划线、停车位划线", "Road and parking-space markings"),
        ("停车场标识、设施完善", "Car-park signs and facilities"),
        ("停车规范管理", "Parking managed by the rules"),
    ]),
    ("设施完善", "Facilities", [
        ("垃圾桶、果皮箱配置", "Rubbish and litter bins provided"),
        ("无障碍通道、盲道", "Barrier-free paths and tactile paving"),
        ("路灯、社区平面图、街标、路标", "Street lights, community map, street and road signs"),
        ("垃圾站点建设", "Refuse points built"),
        ("消防设施完善", "Fire-fighting equipment complete"),
        ("排水设施完善", "Drainage complete"),
        ("综合市场完善", "Market improved"),
    ]),
    ("场地建设", "Open spaces", [
        ("文化广场、晨练点完善", "Culture square and morning-exercise spots"),
    ]),
    ("场所建设", "Venues", [
        ("综合文化站", "Culture station"),
        ("志愿者活动站", "Volunteer station"),
        ("党员教育、宣传文化", "Party members' education and publicity"),
        ("市民教育、普法教育、科普教育", "Civic, legal and science education"),
        ("未成年人成长中心", "Minors' growth centre"),
    ]),
    ("组织建设", "Organisation", [
        ("创建领导小组", "Campaign leading group"),
        ("楼栋长、网格管理员", "Building heads and grid managers"),
        ("志愿者“红袖章”", "Volunteers (red armbands)"),
        ("道德讲堂、科普、未成年人活动中心讲师", "Lecturers: ethics hall, science, minors' centre"),
        ("村民议事会", "Residents' council"),
        ("红白喜事理事会", "Weddings and funerals council"),
        ("禁赌禁毒委员会", "Anti-gambling and anti-drug committee"),
        ("道德评议会", "Ethics review council"),
        ("业主委员会", "Owners' committee"),
    ]),
    ("难点清理", "Hard cases", [
        ("楼体外观治理", "Building facades"),
        ("商户门面规范", "Shop fronts"),
        ("违建清理", "Illegal structures removed"),
    ]),
    ("迎检准备", "Preparing for the evaluation", [
        ("各项工作督导", "Supervision of every task"),
        ("阶段工作验收", "Stage work accepted"),
        ("街道、区、市、国家考评组验收", "Accepted by street, district, city and national assessors"),
    ]),
]  # fmt: skip


def load(step_model: Any, item_model: Any) -> None:
    """Write the catalogue (models given: a migration passes its historical ones)."""
    for number, (name, name_en, items) in enumerate(STEPS, start=1):
        step, _ = step_model.objects.update_or_create(
            number=number, defaults={"name": name, "name_en": name_en}
        )
        for n, (item, item_en) in enumerate(items, start=1):
            item_model.objects.update_or_create(
                step=step, number=n, defaults={"name": item, "name_en": item_en}
            )
