-- Erasing a person rewrites the audit rows and events about them (their account, memberships,
-- profiles, credits and invitations) or by them: found by the entity they are about and by
-- their actor. The person's own rows elsewhere are found by them too.
CREATE INDEX audit_entity ON audit_log(entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX audit_actor ON audit_log(actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX outbox_entity ON outbox(entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX talent_profiles_person ON talent_profiles(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE INDEX invitations_email ON invitations(email);
