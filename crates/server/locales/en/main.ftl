# M-Station — English

nav-members = Members
nav-tokens = API tokens
nav-webhooks = Webhooks
nav-audit = Audit log
nav-organisation = Organisation
nav-switch = Switch
nav-sign-out = Sign out

signin-title = Sign in to M-Station
signin-lede = One platform for the whole production: tracking, media, review, the farm, work orders and more.
signin-submit = Sign in

home-your-role = Your role
home-timezone = Time zone

org-kind-production_company = Production company
org-kind-post_house = Post house
org-kind-vfx_studio = VFX studio
org-kind-animation_studio = Animation studio
org-kind-university = University
org-kind-financier = Financier
org-kind-distributor = Distributor
org-kind-platform_operator = Platform operator

role-owner = Owner
role-admin = Admin
role-producer = Producer
role-coordinator = Coordinator
role-supervisor = Supervisor
role-artist = Artist
role-finance = Finance
role-viewer = Viewer

field-name = Name
field-email = E-mail
field-password = Password
field-role = Role
field-joined = Joined
field-scopes = Scopes
field-prefix = Token
field-created = Created
field-last-used = Last used
field-url = URL
field-events = Events
field-when = When
field-event = Event
field-attempt = Attempt
field-result = Result
field-who = Who
field-action = Action
field-entity = Entity
field-expires_at = Expires

action-save = Save
action-back = Go back
action-older = Older entries

members-invite = Invite someone
members-invite-submit = Send invitation
members-invite-link = Share this link with the person you invited (it works once, for seven days):
members-invited = Invitation created.

tokens-lede = Tokens let scripts and pipeline tools use the API as you, in this organisation only. Give each tool its own token and only the scopes it needs.
tokens-shown-once = Copy this token now: it will not be shown again.
tokens-new = New token
tokens-name-hint = e.g. Nuke publish script
tokens-create = Create token
tokens-revoke = Revoke
tokens-revoked = Revoked
tokens-never = Never
tokens-created = Token created.

scope-read = Read
scope-write = Write
scope-admin = Administer

webhooks-lede = M-Station sends each change to your endpoints as signed JSON, retrying with back-off until they answer 2xx.
webhooks-secret-once = Signing secret (shown once; verify the X-MStation-Signature header with it):
webhooks-new = New webhook
webhooks-create = Add webhook
webhooks-paused = Paused
webhooks-no-deliveries = No deliveries yet.

audit-platform = M-Station

invite-title = Join the organisation
invite-lede = Choose your name and a password (at least 10 characters) to accept the invitation.
invite-accept = Accept invitation

status-400 = Bad request
status-401 = Sign-in required
status-403 = Not allowed
status-404 = Not found
status-409 = Conflict
status-413 = Too large
status-415 = Unsupported content type
status-422 = Invalid input
status-429 = Too many requests
status-500 = Something went wrong on our side
status-503 = Temporarily unavailable

problem-auth-required = Sign-in required
problem-auth-forbidden = Not allowed
problem-auth-invalid_token = Invalid API token
problem-auth-csrf = The form expired; reload the page and try again
problem-auth-no_organisation = You are not a member of any organisation yet
problem-auth-bad_credentials = The e-mail or password is not right
problem-auth-too_many_attempts = Too many sign-in attempts; wait a minute
problem-auth-token_bound = Tokens cannot switch organisation
problem-not_found = Not found
problem-route_not_found = No such address
problem-stale_version = Someone else changed this first
problem-duplicate = This already exists
problem-invalid_field = A field is not valid
problem-store_unavailable = The database is unavailable
problem-request-content_type = The body must be JSON
problem-request-malformed_json = The JSON is malformed
problem-request-invalid_body = The body does not match what this endpoint takes
problem-request-too_large = The request body is too large
problem-request-unreadable = The request could not be read
problem-request-invalid_query = A query parameter is not valid
problem-request-invalid_if_match = The If-Match header is not valid
problem-request-invalid_idempotency_key = The Idempotency-Key header is not valid
problem-request-idempotency_key_reused = This Idempotency-Key belongs to another request
problem-request-idempotency_in_flight = The same request is still running
problem-request-invalid_sort = This list cannot be sorted that way
problem-request-invalid_cursor = The cursor is not valid
problem-request-invalid_last_event_id = The Last-Event-ID header is not valid
problem-identity-role_not_assignable = You cannot give or take away this role
problem-identity-last_owner = An organisation must keep at least one owner
problem-identity-invitation_expired = This invitation has expired or was already used
problem-identity-invitation_for_other_email = This invitation is for another e-mail address
problem-identity-sign_in_to_accept = You already have an account: sign in first, then accept
problem-identity-password_hash_failed = The password could not be stored
problem-tracking-bad_edl = The EDL could not be read
problem-tracking-bad_frame_rate = The frame rate is not one M-Station knows
problem-tracking-bad_timecode = The timecode is not in HH:MM:SS:FF form
problem-tracking-timecode_out_of_range = A timecode field is out of range
problem-tracking-drop_frame_rate = Drop-frame timecode exists only at 29.97 and 59.94
problem-tracking-dropped_frame = This frame number does not exist in drop-frame timecode
problem-tracking-transition_not_allowed = The workflow does not allow this status change
problem-tracking-asset_has_tasks = This asset has tasks; it cannot be deleted
problem-tracking-episode_in_use = Sequences or assets belong to this episode; it cannot be deleted
problem-tracking-not_your_time_log = Only the person who logged this time may change it
problem-page-render = The page could not be drawn
