# language: zh-CN
功能: 健康教育插件：宣传栏面积不少于 3 平方米，宣传内容标明日期并留底稿
  检查通报写道：“宣传栏面积不够，宣传内容无档可查……面积多数达不到3平方米要求。宣传栏内容基本能做到
  两月更换一次，但大都没有标明日期，没有留底稿，考核无档可查。”宣传栏任务交办时要写明面积，自查时要
  附注明内容日期的留底稿。缺少的项目与四有四定的缺项一并列出、一次退回。

  背景:
    假如 当前时间为 2026-11-02 09:00

  规则: 宣传栏面积不少于 3 平方米，交办时检查

    @rule:health_board_area
    场景: 宣传栏 3.6 平方米，交办成功
      当 创建办“市创卫办”交办任务给“市卫生局”，任务名称为“社区健康教育宣传栏”，任务类型为“health_education.board”，属性为“area_m2=3.6”
      那么 操作成功
      并且 任务状态为“已交办”

    @rule:health_board_area
    场景: 宣传栏正好 3 平方米，符合要求
      当 创建办“市创卫办”交办任务给“市卫生局”，任务名称为“社区健康教育宣传栏”，任务类型为“health_education.board”，属性为“area_m2=3”
      那么 操作成功

    @rule:health_board_area @rule:fixed_task_standard
    场景: 宣传栏只有 2.4 平方米，与缺少的具体标准一并退回
      当 创建办“市创卫办”交办任务给“市卫生局”，任务名称为“社区健康教育宣传栏”，任务类型为“health_education.board”，属性为“area_m2=2.4”，其中具体标准为空
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码                | 规则       | 说明                                    |
        | fixed_task_standard |            |                                         |
        | health_board_area   | 宣传栏面积 | 宣传栏面积 2.4 平方米，达不到 3 平方米的要求 |
      并且 任务、历史和通知均未改变

    @rule:task_attributes
    场景: 没写宣传栏面积，按任务属性退回
      当 创建办“市创卫办”交办任务给“市卫生局”，任务名称为“社区健康教育宣传栏”，任务类型为“health_education.board”
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码            | 说明                                         |
        | task_attributes | 缺少属性“宣传栏面积（平方米）”（area_m2） |

  规则: 宣传栏的自查须附标明内容日期的留底稿，内容两月一换

    背景:
      假如 创建办“市创卫办”交办任务给“市卫生局”，任务名称为“社区健康教育宣传栏”，任务类型为“health_education.board”，属性为“area_m2=3.6”
      并且 责任单位“市卫生局”开始整改
      并且 过了 3 天

    @rule:health_board_draft
    场景: 附了本月内容的留底稿，自查提交成功
      当 责任单位“市卫生局”提交自查，附“health_education.draft”类佐证材料（content_date=2026-11-03）
      那么 操作成功
      并且 任务状态为“已自查”

    @rule:health_board_draft
    场景: 内容日期正好是两个月前，仍可提交
      当 责任单位“市卫生局”提交自查，附“health_education.draft”类佐证材料（content_date=2026-09-05）
      那么 操作成功

    @rule:health_board_draft
    场景: 没有留底稿，考核无档可查，自查被退回
      当 责任单位“市卫生局”提交自查，附整改佐证材料
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码               | 规则           | 说明                                                                   |
        | health_board_draft | 宣传内容留底稿 | 宣传栏须附宣传内容的留底稿（health_education.draft，注明内容日期 content_date） |
      并且 任务、历史和通知均未改变

    @rule:health_board_draft
    场景: 留底稿的内容日期超过两个月，应当更换内容
      当 责任单位“市卫生局”提交自查，附“health_education.draft”类佐证材料（content_date=2026-09-04）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码               | 说明                                                     |
        | health_board_draft | 留底稿注明的内容日期 2026-09-04 已超过两个月，宣传内容应当更换 |

    @rule:health_board_draft
    场景: 内容日期写在了将来，自查被退回
      当 责任单位“市卫生局”提交自查，附“health_education.draft”类佐证材料（content_date=2026-11-06）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为 health_board_draft（宣传内容留底稿）
      并且 拒绝理由包含“晚于今天”

    @rule:evidence_attributes
    场景: 留底稿没有标明日期，按材料属性退回
      当 责任单位“市卫生局”提交自查，附“health_education.draft”类佐证材料
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码                | 说明                                                        |
        | evidence_attributes | 第 2 项佐证材料（宣传内容留底稿）：缺少属性“内容日期”（content_date） |
      并且 任务、历史和通知均未改变
