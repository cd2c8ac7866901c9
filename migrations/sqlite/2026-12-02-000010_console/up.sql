-- The citizen's space and the operator's console: a citizen's login history is the audit log
-- read by actor, an app's activity over time is the audit log read by app, and operators hold
-- roles that say what the console lets them do.
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_client ON audit_log (client_id, at);

CREATE TABLE operator_roles (
    sub TEXT NOT NULL,
    -- apps, licences, keys, audit.
    role TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (sub, role)
);
