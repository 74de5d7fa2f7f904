"""The seeded item catalogue (事项清单): the nine items of an industrial project's approval path,
each with the city department that decides it, its legal time limit in working days and its
materials. Loaded by a data migration; the admin maintains it from there."""

PDF = ".pdf"
PDF_OR_IMAGE = ".pdf,.jpg,.jpeg,.png"
DOCUMENT = ".pdf,.doc,.docx"

# (code, name, department, time limit in working days, legal basis, [(material, required, types)])
ITEMS = [
    ("project_filing", "企业投资项目备案", "株洲市发展和改革委员会", 3, "《企业投资项目核准和备案管理条例》第十三条", [
        ("项目备案信息表", True, PDF),
        ("企业营业执照", True, PDF_OR_IMAGE),
        ("项目建设内容说明", False, DOCUMENT),
    ]),
    ("land_presite", "建设项目用地预审与选址意见书", "株洲市自然资源和规划局", 20, "《土地管理法实施条例》第二十四条", [
        ("建设项目用地预审与选址申请表", True, PDF),
        ("建设项目用地预审与选址申请报告", True, DOCUMENT),
        ("项目备案（核准）文件", True, PDF),
        ("标注项目用地范围的国土空间规划图", True, PDF_OR_IMAGE),
    ]),
    ("land_planning_permit", "建设用地规划许可证", "株洲市自然资源和规划局", 20, "《城乡规划法》第三十八条", [
        ("建设用地规划许可申请表", True, PDF),
        ("国有建设用地使用权出让合同", True, PDF),
        ("宗地红线图", True, PDF_OR_IMAGE),
        ("建设项目用地预审与选址意见书", False, PDF),
    ]),
    ("works_planning_permit", "建设工程规划许可证", "株洲市自然资源和规划局", 20, "《城乡规划法》第四十条", [
        ("建设工程规划许可申请表", True, PDF),
        ("不动产权证书", True, PDF_OR_IMAGE),
        ("建设工程设计方案总平面图", True, PDF),
        ("建筑设计方案文本", True, PDF),
    ]),
    ("construction_permit", "建筑工程施工许可证", "株洲市住房和城乡建设局", 7, "《建筑工程施工许可管理办法》第五条", [
        ("建筑工程施工许可申请表", True, PDF),
        ("建设工程规划许可证", True, PDF_OR_IMAGE),
        ("施工合同", True, PDF),
        ("施工图设计文件审查合格书", True, PDF),
        ("建设资金已经落实承诺书", True, PDF),
        ("质量安全监督手续", False, PDF),
    ]),
    ("eia_approval", "环境影响评价文件审批", "株洲市生态环境局", 30, "《环境影响评价法》第二十二条（报告表）", [
        ("环境影响评价文件审批申请", True, PDF),
        ("环境影响报告表", True, PDF),
        ("公众参与说明", False, DOCUMENT),
    ]),
    ("energy_review", "节能审查", "株洲市发展和改革委员会", 20, "《固定资产投资项目节能审查办法》第十条", [
        ("节能审查申请", True, PDF),
        ("节能报告", True, DOCUMENT),
    ]),
    ("fire_design_review", "消防设计审查", "株洲市住房和城乡建设局", 15,
     "《建设工程消防设计审查验收管理暂行规定》第十六条", [
        ("消防设计审查申请表", True, PDF),
        ("消防设计文件", True, PDF),
        ("建设工程规划许可证", False, PDF_OR_IMAGE),
    ]),
    ("joint_completion_acceptance", "竣工联合验收", "株洲市住房和城乡建设局", 10,
     "国办发〔2019〕11号 联合验收", [
        ("竣工联合验收申请表", True, PDF),
        ("工程竣工验收报告", True, PDF),
        ("规划核实测量报告", True, PDF),
        ("消防验收相关材料", True, PDF),
    ]),
]


def load_catalogue(item_model, requirement_model) -> int:
    """Create the items that do not exist yet (by code); returns how many were created."""
    created = 0
    for order, (code, name, department, days, basis, materials) in enumerate(ITEMS, start=1):
        item, was_created = item_model.objects.get_or_create(
            code=code,
            defaults={"name": name, "department": department, "time_limit_workdays": days,
                      "legal_basis": basis, "order": order},
        )
        if not was_created:
            continue
        created += 1
        for position, (material, required, types) in enumerate(materials, start=1):
            requirement_model.objects.create(
                item=item, name=material, required=required, file_types=types, order=position
            )
    return created
