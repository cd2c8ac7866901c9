DROP TABLE operator_roles;
DROP INDEX audit_log_client;
DROP INDEX audit_log_actor;
