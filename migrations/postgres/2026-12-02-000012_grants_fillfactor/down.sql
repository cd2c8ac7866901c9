ALTER TABLE grants RESET (fillfactor);
