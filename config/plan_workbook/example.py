"""The example the blank template shows: one row on each sheet, marked 示例 in its 备注.

Decision: an example row is skipped on import while it is exactly the template's example, and
refused (with its place) once any of its cells was edited. Skipping the untouched example lets a
clerk leave it in place as a reminder of the format; refusing an edited one catches the clerk
who typed the plan over the example row and left the 示例 mark, whose row would otherwise be
lost without a word.
"""

from __future__ import annotations

from config.plan_file import PlanFile

EXAMPLE = PlanFile.model_validate({
    "plan": {"code": "shili-2021-2025", "name": "示例区民政事业发展“十四五”规划",
             "issuer": "示例区民政局", "document_number": "示民〔2021〕1号",
             "issued_on": "2021-06-30", "period": "2021-2025", "source": "示例规划.docx"},
    "units": [{"code": "shili-mzj", "name": "示例区民政局", "kind": "bureau",
               "contact": {"name": "张三", "email": "zhangsan@example.org",
                           "phone": "0571-00000000"}}],
    "projects": [{"code": "1", "name": "区社会福利中心二期工程",
                  "description": "建成 300 张床位的护理型养老机构", "unit": "shili-mzj",
                  "category": "一、养老服务设施", "floor_area_m2": 20000,
                  "investment_wan_yuan": 18630, "beds": 300, "commitment": "binding",
                  "facts": {"建设性质": "续建"},
                  "milestones": [{"year": 2022, "target": "开工建设", "unit": "shili-mzj",
                                  "commitment": "binding"}]}],
    "indicators": [{"code": "1", "table": "附件1 主要指标", "category": "养老服务",
                    "name": "每千名老年人拥有养老床位数", "measure": "张",
                    "baseline": {"year": 2020, "value": 40}, "targets": {2025: "45 以上"},
                    "actuals": {2025: 46}, "commitment": "expected", "direction": "up",
                    "project": "1", "facts": {"年均增速(%)": 2.4}}],
})
