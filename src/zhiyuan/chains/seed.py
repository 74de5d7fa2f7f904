"""The seeded chain maps: the district's four leading chains (新材料, 轨道交通装备配套, 医学健康,
装配式建筑), each as segments of nodes from upstream to downstream, with the rules that map local
firms to a node — product keywords and GB/T 4754-2017 industry code prefixes.

These are reference data, loaded by the data migration `0002_seed_chains` and maintained in the admin
from then on: `load_chains` only adds what is missing (by chain code, segment name and node name) and
never overwrites what an administrator changed. The names and keywords are Chinese data, not
interface text.
"""

from __future__ import annotations

UP, MID, DOWN = "upstream", "midstream", "downstream"

# (code, name, description, [(segment, [(node, position, keywords, industry code prefixes)])])
CHAINS: list[tuple[str, str, str, list[tuple[str, list[tuple[str, str, str, str]]]]]] = [
    (
        "new_materials",
        "新材料",
        "以硬质合金为龙头，高分子涂料、碳纤维、先进陶瓷协同发展的新材料产业链。",
        [
            (
                "硬质合金",
                [
                    ("钨钼原料", UP, "钨精矿,仲钨酸铵,APT,钨粉,碳化钨,钴粉,钼粉,钨条", "0931,3231"),
                    ("硬质合金棒材/刀片", MID, "硬质合金,刀片,棒材,YG8,YT15,YG6,钨钢,合金刀片", "3240"),
                    ("数控刀具", DOWN, "数控刀具,铣刀,钻头,车刀,立铣刀,可转位刀具,刀具", "3321"),
                    ("矿用工具/耐磨零件", DOWN, "矿用,截齿,钎头,球齿,耐磨,硬面,钻具", "3511"),
                ],
            ),
            (
                "高分子涂料",
                [
                    ("树脂/助剂", UP, "树脂,环氧树脂,聚氨酯,丙烯酸树脂,助剂,固化剂,分散剂", "2651,2661"),
                    ("颜料/填料", UP, "颜料,钛白粉,填料,氧化铁,色浆", "2643"),
                    ("工业涂料", MID, "涂料,防腐涂料,水性涂料,底漆,面漆,油漆,粉末涂料", "2641"),
                    ("轨道交通/工程机械涂装", DOWN, "涂装,喷涂,防腐施工,涂层", "3360"),
                ],
            ),
            (
                "碳纤维",
                [
                    ("原丝", UP, "原丝,聚丙烯腈,PAN,丙烯腈", "2823,2829"),
                    ("碳纤维/预浸料", MID, "碳纤维,预浸料,碳布,碳纤维丝,碳纤维织物", "3091"),
                    ("碳纤维复合材料制品", DOWN, "碳纤维制品,复合材料,碳纤维板,碳纤维管,碳纤维部件", "3062"),
                    ("碳纤维运动器材", DOWN, "自行车架,碳纤维自行车,球拍,鱼竿,头盔", "3761,2442"),
                ],
            ),
            (
                "先进陶瓷",
                [
                    ("陶瓷粉体", UP, "氧化铝粉,氧化锆,陶瓷粉,粉体,碳化硅粉", "3099"),
                    ("电瓷/功能陶瓷", MID, "电瓷,绝缘子,陶瓷基板,功能陶瓷,压电陶瓷", "3073,3834"),
                    ("结构陶瓷部件", DOWN, "陶瓷轴承,陶瓷阀,陶瓷密封,结构陶瓷,陶瓷部件", "3079"),
                ],
            ),
        ],
    ),
    (
        "rail",
        "轨道交通装备配套",
        "围绕电力机车、城轨车辆整车，补齐传动、牵引、制动、内饰、基础零部件的本地配套。",
        [
            (
                "传动与走行",
                [
                    ("轴承", UP, "轴承,轴箱轴承,滚动轴承,圆锥滚子轴承,6205", "3451,3452"),
                    ("齿轮/齿轮箱", MID, "齿轮,齿轮箱,减速器,传动齿轮,牵引齿轮", "3453"),
                    ("车桥/轮对", MID, "车桥,轮对,车轴,车轮,轴箱", "3715"),
                    ("转向架", MID, "转向架,构架,悬挂装置", "3714,3715"),
                ],
            ),
            (
                "牵引与电气",
                [
                    ("功率半导体", UP, "IGBT,功率模块,晶闸管,碳化硅器件,SiC", "3824"),
                    ("牵引电机", MID, "牵引电机,永磁同步电机,异步电机,电机", "3812,3819"),
                    ("牵引变流器", MID, "变流器,牵引变流,辅助电源,逆变器,整流器", "3821"),
                    ("网络控制/信号", MID, "网络控制,列车控制,信号系统,车载控制,TCMS", "3716"),
                ],
            ),
            (
                "制动",
                [
                    ("闸片/制动盘", UP, "闸片,制动盘,闸瓦,粉末冶金闸片,合成闸片", "3393"),
                    ("制动系统", MID, "制动系统,制动阀,制动控制,风缸,制动缸,空气制动", "3715"),
                ],
            ),
            (
                "车体与内饰",
                [
                    ("铝型材", UP, "铝型材,铝合金型材,挤压型材,铝板", "3252"),
                    ("车体", MID, "车体,司机室,车体焊接,底架", "3712"),
                    ("轨道车辆内饰", MID, "内饰,座椅,车内地板,顶板,侧墙板,车窗,贯通道", "3715,2929"),
                    ("空调/照明", MID, "车辆空调,照明,LED灯,空调机组", "3464,3879"),
                ],
            ),
            (
                "基础零部件",
                [
                    ("紧固件", UP, "紧固件,螺栓,螺母,铆钉,M8×30,防松", "3482"),
                    ("橡胶减振件", UP, "橡胶件,减振,空气弹簧,橡胶弹簧,减振器", "2913"),
                    ("弹簧", UP, "弹簧,螺旋弹簧,板簧", "3483"),
                    ("线缆/线束", UP, "电缆,线束,机车电缆,连接器", "3831,3899"),
                ],
            ),
            (
                "整车与运维",
                [
                    ("电力机车/动车组", DOWN, "电力机车,机车,动车组,高速列车", "3711,3712"),
                    ("城轨车辆", DOWN, "地铁车辆,城轨车辆,有轨电车,储能式", "3720"),
                    ("检修运维", DOWN, "检修,维保,大修,修理", "4341"),
                ],
            ),
        ],
    ),
    (
        "health",
        "医学健康",
        "化学药、中药、医疗器械、生物医药与健康服务，原料药到制剂、器械到康复的完整链条。",
        [
            (
                "化学药",
                [
                    ("医药中间体", UP, "中间体,医药中间体,精细化工", "2661,2662"),
                    ("原料药", UP, "原料药,API,化学原料药", "2710"),
                    ("化学制剂", MID, "制剂,片剂,胶囊,注射液,口服液,颗粒剂", "2720"),
                    ("药用辅料/包材", UP, "药用辅料,辅料,药用包装,胶囊壳,输液瓶", "2780"),
                ],
            ),
            (
                "中药",
                [
                    ("中药材种植", UP, "中药材,种植,玉竹,百合,黄精", "0171"),
                    ("中药饮片", MID, "饮片,中药饮片,切片", "2730"),
                    ("中成药", MID, "中成药,丸剂,中药颗粒,膏方", "2740"),
                ],
            ),
            (
                "医疗器械",
                [
                    ("医用材料/耗材", UP, "医用,耗材,敷料,导管,注射器,医用橡胶", "2770,2915"),
                    ("医疗设备", MID, "医疗设备,监护仪,影像,诊断设备,治疗设备,医疗器械", "3581,3584"),
                    ("康复辅具", DOWN, "康复,轮椅,助行器,康复辅具,假肢", "3586,3762"),
                ],
            ),
            (
                "生物医药",
                [
                    ("生物药", MID, "疫苗,抗体,生物制品,血液制品", "2761,2762"),
                    ("体外诊断", MID, "诊断试剂,检测试剂,体外诊断,IVD", "3589"),
                ],
            ),
            (
                "医药流通与健康服务",
                [
                    ("医药流通", DOWN, "医药流通,药品批发,药房,配送", "5151,5152"),
                    ("医疗服务", DOWN, "医院,诊所,体检", "841,842"),
                    ("康养服务", DOWN, "养老,康养,护理院", "8514"),
                ],
            ),
        ],
    ),
    (
        "prefab",
        "装配式建筑",
        "钢材、混凝土等建材到钢结构与预制混凝土构件，再到装配式设计、施工与装修。",
        [
            (
                "建材原料",
                [
                    ("钢材", UP, "钢材,型钢,H型钢,钢板,螺纹钢,钢卷", "3120,3130"),
                    ("水泥/混凝土", UP, "水泥,商品混凝土,混凝土,砂浆", "3011,3021"),
                    ("新型墙材", UP, "墙板,加气砌块,砌块,轻质隔墙,ALC板", "3024,3031"),
                    ("保温/防水材料", UP, "保温板,岩棉,挤塑板,防水卷材,防水涂料", "3033,3034"),
                ],
            ),
            (
                "构件制造",
                [
                    ("钢结构构件", MID, "钢结构,构件,钢梁,钢柱,桁架,钢结构构件", "3311"),
                    ("预制混凝土构件", MID, "预制构件,叠合板,预制楼梯,PC构件,预制墙板,管片", "3022"),
                    ("灌浆套筒/连接件", MID, "灌浆套筒,预埋件,钢筋连接,连接件,钢筋桁架", "3359"),
                    ("门窗幕墙", MID, "门窗,幕墙,铝合金门窗,断桥", "3312"),
                    ("集成卫浴/整体厨房", MID, "集成卫浴,整体卫浴,整体厨房,集成厨房", "3383,2927"),
                ],
            ),
            (
                "装备",
                [
                    ("构件生产装备", UP, "生产线,模台,布料机,钢筋加工,养护窑", "3515"),
                    ("吊装设备", UP, "塔吊,起重机,吊装设备,施工升降机", "3432,3514"),
                ],
            ),
            (
                "设计与施工",
                [
                    ("设计/BIM", DOWN, "BIM,建筑设计,深化设计,装配式设计", "7484"),
                    ("装配式施工", DOWN, "装配式,施工,吊装,总承包,钢结构安装", "4710,4790"),
                    ("装配式装修", DOWN, "装配式装修,内装,装饰装修", "5011,5012"),
                    ("构件检测", DOWN, "构件检测,质量检测,检测服务,无损检测", "7452"),
                ],
            ),
        ],
    ),
]


def load_chains(chain_model, segment_model, node_model) -> int:
    """Create the chains, segments and nodes that do not exist yet; returns how many nodes were
    created. Existing rows (perhaps edited in the admin) are left as they are, so running it again
    changes nothing. Takes the model classes so the data migration can pass its historical models."""
    created = 0
    for chain_order, (code, name, description, segments) in enumerate(CHAINS, start=1):
        chain, _ = chain_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "order": chain_order}
        )
        for segment_order, (segment_name, nodes) in enumerate(segments, start=1):
            segment, _ = segment_model.objects.get_or_create(
                chain=chain, name=segment_name, defaults={"order": segment_order}
            )
            for node_order, (node_name, position, keywords, codes) in enumerate(nodes, start=1):
                _node, was_created = node_model.objects.get_or_create(
                    segment=segment,
                    name=node_name,
                    defaults={
                        "position": position,
                        "order": node_order,
                        "keywords": keywords,
                        "industry_codes": codes,
                    },
                )
                created += was_created
    return created


def seeded_node_count() -> int:
    """How many nodes the seed describes (for tests and the demo)."""
    return sum(len(nodes) for _code, _name, _description, segments in CHAINS for _segment, nodes in segments)
