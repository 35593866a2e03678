# M-Station — 简体中文

nav-members = 成员
nav-tokens = API 令牌
nav-webhooks = Webhook
nav-audit = 审计日志
nav-organisation = 机构
nav-switch = 切换
nav-sign-out = 退出登录

signin-title = 登录 M-Station
signin-lede = 一个平台贯穿整个制作流程：制作管理、媒体、审阅、渲染农场、工单等等。
signin-submit = 登录

home-your-role = 你的角色
home-timezone = 时区

org-kind-production_company = 制片公司
org-kind-post_house = 后期公司
org-kind-vfx_studio = 视效工作室
org-kind-animation_studio = 动画工作室
org-kind-university = 高校
org-kind-financier = 金融机构
org-kind-distributor = 发行公司
org-kind-platform_operator = 平台运营方

role-owner = 所有者
role-admin = 管理员
role-producer = 制片
role-coordinator = 统筹
role-supervisor = 总监
role-artist = 艺术家
role-finance = 财务
role-viewer = 访客

field-name = 名称
field-email = 电子邮箱
field-password = 密码
field-role = 角色
field-joined = 加入时间
field-scopes = 权限范围
field-prefix = 令牌
field-created = 创建时间
field-last-used = 最近使用
field-url = 地址
field-events = 事件
field-when = 时间
field-event = 事件
field-attempt = 尝试次数
field-result = 结果
field-who = 操作人
field-action = 操作
field-entity = 对象
field-expires_at = 过期时间

action-save = 保存
action-back = 返回
action-older = 更早的记录

members-invite = 邀请成员
members-invite-submit = 发送邀请
members-invite-link = 请把此链接发给受邀人（七天内有效，仅可使用一次）：
members-invited = 邀请已创建。

tokens-lede = 令牌让脚本和流程工具以你的身份调用 API，且仅限本机构。请为每个工具单独创建令牌，只授予它需要的权限。
tokens-shown-once = 请立即复制此令牌：它不会再次显示。
tokens-new = 新建令牌
tokens-name-hint = 例如：Nuke 发布脚本
tokens-create = 创建令牌
tokens-revoke = 吊销
tokens-revoked = 已吊销
tokens-never = 从未
tokens-created = 令牌已创建。

scope-read = 读取
scope-write = 写入
scope-admin = 管理

webhooks-lede = M-Station 会把每一项变更以签名 JSON 发送到你的地址，失败时按退避策略重试，直到对方返回 2xx。
webhooks-secret-once = 签名密钥（仅显示一次，请用它校验 X-MStation-Signature 请求头）：
webhooks-new = 新建 Webhook
webhooks-create = 添加 Webhook
webhooks-paused = 已暂停
webhooks-no-deliveries = 暂无投递记录。

audit-platform = M-Station

invite-title = 加入机构
invite-lede = 请填写姓名并设置密码（至少 10 个字符）以接受邀请。
invite-accept = 接受邀请

status-400 = 请求有误
status-401 = 需要登录
status-403 = 无权操作
status-404 = 未找到
status-409 = 冲突
status-413 = 内容过大
status-415 = 不支持的内容类型
status-422 = 输入无效
status-429 = 请求过于频繁
status-500 = 服务器内部出错
status-503 = 暂时不可用

problem-auth-required = 需要登录
problem-auth-forbidden = 无权操作
problem-auth-invalid_token = API 令牌无效
problem-auth-csrf = 表单已过期，请刷新页面后重试
problem-auth-no_organisation = 你还不是任何机构的成员
problem-auth-bad_credentials = 邮箱或密码不正确
problem-auth-too_many_attempts = 登录尝试过多，请稍候一分钟
problem-auth-token_bound = 令牌不能切换机构
problem-not_found = 未找到
problem-route_not_found = 没有这个地址
problem-stale_version = 已有他人先修改了此内容
problem-duplicate = 该记录已存在
problem-invalid_field = 有字段无效
problem-store_unavailable = 数据库暂时不可用
problem-request-content_type = 请求体必须是 JSON
problem-request-malformed_json = JSON 格式错误
problem-request-invalid_body = 请求体与该接口的要求不符
problem-request-too_large = 请求体过大
problem-request-unreadable = 无法读取请求
problem-request-invalid_query = 查询参数无效
problem-request-invalid_if_match = If-Match 请求头无效
problem-request-invalid_idempotency_key = Idempotency-Key 请求头无效
problem-request-idempotency_key_reused = 此 Idempotency-Key 已用于另一个请求
problem-request-idempotency_in_flight = 相同的请求仍在处理中
problem-request-invalid_sort = 此列表不支持这种排序
problem-request-invalid_cursor = 分页游标无效
problem-request-invalid_last_event_id = Last-Event-ID 请求头无效
problem-identity-role_not_assignable = 你不能授予或收回这个角色
problem-identity-last_owner = 机构必须至少保留一位所有者
problem-identity-invitation_expired = 此邀请已过期或已被使用
problem-identity-invitation_for_other_email = 此邀请属于另一个邮箱地址
problem-identity-sign_in_to_accept = 你已有账号：请先登录再接受邀请
problem-identity-password_hash_failed = 无法保存密码
problem-tracking-bad_edl = 无法读取 EDL 文件
problem-tracking-bad_frame_rate = 无法识别的帧率
problem-tracking-bad_timecode = 时间码格式应为 HH:MM:SS:FF
problem-tracking-timecode_out_of_range = 时间码字段超出范围
problem-tracking-drop_frame_rate = 丢帧时间码只适用于 29.97 和 59.94
problem-tracking-dropped_frame = 丢帧时间码中不存在这个帧号
problem-tracking-transition_not_allowed = 工作流程不允许这次状态变更
problem-tracking-asset_has_tasks = 该资产已有任务，不能删除
problem-tracking-episode_in_use = 仍有场次或资产属于这一集，不能删除
problem-tracking-not_your_time_log = 只有登记这条工时的人才能修改它
problem-page-render = 页面无法显示
