DROP TABLE qr_logins;
