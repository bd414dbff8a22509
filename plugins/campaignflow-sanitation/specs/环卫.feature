# language: zh-CN
功能: 环卫插件：卫生死角的整改前后照片，毒饵站的数量和投药记录
  城管局在创卫中清理卫生死角（“清理……卫生死角10处，做到及时发现、及时清理”）、安装毒饵站
  （“安装宣传栏6个、毒饵站20个”；“毒饵站内药物摆放一个月两次更换”）。检查时要看得到整改前后的
  对比照片，毒饵站要写明数量、附投药记录。缺少的项目与四有四定的缺项一并列出、一次退回。

  背景:
    假如 当前时间为 2026-11-02 09:00

  规则: 卫生死角的自查须附整改前和整改后的照片

    @rule:sanitation_photos
    场景: 附了整改前和整改后的照片，自查提交成功
      假如 创建办“市创卫办”交办任务给“市城管局”，任务名称为“背街小巷卫生死角整治”，任务类型为“sanitation.blind_spot”
      并且 责任单位“市城管局”开始整改
      当 责任单位“市城管局”提交自查，附“photo”类佐证材料（stage=before），附“photo”类佐证材料（stage=after）
      那么 操作成功
      并且 任务状态为“已自查”

    @rule:sanitation_photos
    场景: 只有整改后的照片，缺整改前的照片，自查被退回
      假如 创建办“市创卫办”交办任务给“市城管局”，任务名称为“背街小巷卫生死角整治”，任务类型为“sanitation.blind_spot”
      并且 责任单位“市城管局”开始整改
      当 责任单位“市城管局”提交自查，附“photo”类佐证材料（stage=after）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码              | 规则         | 说明                                          |
        | sanitation_photos | 整改前后照片 | 卫生死角须附整改前照片（photo，stage=before） |
      并且 任务、历史和通知均未改变

    @rule:sanitation_photos @rule:has_rectification
    场景: 什么佐证材料都没有附，四有四定的缺项和两张照片一并列出
      假如 创建办“市创卫办”交办任务给“市城管局”，任务名称为“背街小巷卫生死角整治”，任务类型为“sanitation.blind_spot”
      并且 责任单位“市城管局”开始整改
      当 责任单位“市城管局”提交自查，未附整改佐证材料
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码              | 说明                                          |
        | has_rectification |                                               |
        | sanitation_photos | 卫生死角须附整改前照片（photo，stage=before） |
        | sanitation_photos | 卫生死角须附整改后照片（photo，stage=after）  |
      并且 任务、历史和通知均未改变

    @rule:sanitation_photos
    场景: 别的任务类型不要求整改前后照片
      假如 创建办“市创卫办”交办任务给“市城管局”，任务名称为“主次干道保洁”，任务类型为“general”
      并且 责任单位“市城管局”开始整改
      当 责任单位“市城管局”提交自查，附整改佐证材料
      那么 操作成功

  规则: 毒饵站要写明数量，交办时检查

    @rule:task_attributes
    场景: 写明了毒饵站数量，交办成功
      当 创建办“市创卫办”交办任务给“市城管局”，任务名称为“居民社区安装毒饵站”，任务类型为“sanitation.bait_station”，属性为“station_count=20”
      那么 操作成功
      并且 任务状态为“已交办”

    @rule:task_attributes @rule:fixed_task_standard
    场景: 毒饵站数量为 0，与缺少的具体标准一并退回
      当 创建办“市创卫办”交办任务给“市城管局”，任务名称为“居民社区安装毒饵站”，任务类型为“sanitation.bait_station”，属性为“station_count=0”，其中具体标准为空
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码                | 说明                                        |
        | fixed_task_standard |                                             |
        | task_attributes     | 属性“毒饵站数量”（station_count）不能小于 1 |
      并且 任务、历史和通知均未改变

    @rule:task_attributes
    场景: 没写毒饵站数量，交办被退回
      当 创建办“市创卫办”交办任务给“市城管局”，任务名称为“居民社区安装毒饵站”，任务类型为“sanitation.bait_station”
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码            | 说明                                |
        | task_attributes | 缺少属性“毒饵站数量”（station_count） |

  规则: 毒饵站的自查须附注明日期的投药记录，日期在交办之后、不晚于当天

    背景:
      假如 创建办“市创卫办”交办任务给“市城管局”，任务名称为“居民社区安装毒饵站”，任务类型为“sanitation.bait_station”，属性为“station_count=20”
      并且 责任单位“市城管局”开始整改
      并且 过了 3 天

    @rule:sanitation_refill
    场景: 附了交办后的投药记录，自查提交成功
      当 责任单位“市城管局”提交自查，附“sanitation.refill_record”类佐证材料（refilled_on=2026-11-04）
      那么 操作成功
      并且 任务状态为“已自查”

    @rule:sanitation_refill
    场景: 没有投药记录，自查被退回
      当 责任单位“市城管局”提交自查，附整改佐证材料
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码              | 规则     | 说明                                                                  |
        | sanitation_refill | 投药记录 | 毒饵站须附投药记录（sanitation.refill_record，注明投药日期 refilled_on） |
      并且 任务、历史和通知均未改变

    @rule:sanitation_refill
    场景: 投药记录是交办以前的，不能证明本次整改
      当 责任单位“市城管局”提交自查，附“sanitation.refill_record”类佐证材料（refilled_on=2026-10-20）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为：
        | 代码              | 说明                                                                 |
        | sanitation_refill | 投药记录的投药日期 2026-10-20 早于任务交办日 2026-11-02，不能证明本次整改 |

    @rule:sanitation_refill
    场景: 投药日期写在了将来，自查被退回
      当 责任单位“市城管局”提交自查，附“sanitation.refill_record”类佐证材料（refilled_on=2026-11-06）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为 sanitation_refill（投药记录）
      并且 拒绝理由包含“晚于今天”

    @rule:evidence_attributes
    场景: 投药记录的日期不是日期，按材料属性退回
      当 责任单位“市城管局”提交自查，附“sanitation.refill_record”类佐证材料（refilled_on=11月4日）
      那么 操作被拒绝：四有四定不符合
      并且 缺少的项目为 evidence_attributes（属性）
      并且 任务、历史和通知均未改变
