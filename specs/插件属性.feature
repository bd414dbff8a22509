# language: zh-CN
功能: 插件规定的任务属性和佐证材料属性
  部门插件可以为某类任务、某类佐证材料规定必须填写的属性。属性不符合规定的，与缺少的四有四定项目
  一并列出、一次退回；没有插件规定的类型不受影响。

  背景:
    假如 当前时间为 2026-11-02 09:00
    并且 插件“环卫”规定任务类型“sanitation.bait_station”须有属性：
      | 属性          | 类型 | 至少 | 名称       |
      | station_count | 整数 | 1    | 毒饵站数量 |
      | street        | 文字 |      | 所在街巷   |
    并且 插件“环卫”规定佐证材料类型“refill_record”须有属性：
      | 属性        | 类型 | 名称     |
      | refilled_on | 日期 | 投药日期 |

  规则: 任务属性在交办时检查

    @rule:task_attributes
    场景: 毒饵站任务写明了数量和街巷，交办成功
      当 创建办“市创卫办”交办任务给“市城管局”，任务类型为“sanitation.bait_station”，属性为“station_count=12；street=北关街”
      那么 操作成功
      并且 任务状态为“已交办”

    @rule:task_attributes @rule:fixed_task_measures
    场景: 毒饵站数量为 0、未写街巷，与缺少的主要措施一并退回
      当 创建办“市创卫办”交办任务给“市城管局”，任务类型为“sanitation.bait_station”，属性为“station_count=0”，其中主要措施为空
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码                | 规则   | 说明                                |
        | fixed_task_measures | 定任务 | 至少要有一条主要措施                |
        | task_attributes     | 属性   | 属性“毒饵站数量”（station_count）不能小于 1 |
        | task_attributes     | 属性   | 缺少属性“所在街巷”（street）         |
      并且 任务、历史和通知均未改变

    @rule:task_attributes
    场景: 插件没有规定的任务类型不检查属性
      当 创建办“市创卫办”交办任务给“市城管局”，任务类型为“sanitation.blind_spot”
      那么 操作成功

  规则: 佐证材料属性在提交自查时检查

    @rule:evidence_attributes
    场景: 投药记录写明了投药日期，自查提交成功
      假如 已有一项交办给“市城管局”的任务，当前状态为“整改中”
      当 责任单位“市城管局”提交自查，附“refill_record”类佐证材料（refilled_on=2026-11-01）
      那么 操作成功
      并且 任务状态为“已自查”

    @rule:evidence_attributes
    场景: 投药记录的投药日期不是日期，自查被退回
      假如 已有一项交办给“市城管局”的任务，当前状态为“整改中”
      当 责任单位“市城管局”提交自查，附“refill_record”类佐证材料（refilled_on=11月1日）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为 evidence_attributes（属性）
      并且 任务、历史和通知均未改变
