//! Diesel's view of the tables in `migrations/`. One schema serves SQLite and PostgreSQL.
diesel::table! {
    users (sub) {
        sub -> Text,
        id_number_lookup -> Nullable<Text>,
        id_number_sealed -> Nullable<Binary>,
        name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        address -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        auth_method -> Text,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        grant_types -> Text,
        scopes -> Text,
        id_token_alg -> Text,
        jwks -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        request_object_alg -> Nullable<Text>,
        backchannel_logout_uri -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        registration_token_hash -> Nullable<Text>,
        metadata -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    client_counters (client_id) {
        client_id -> Text,
        logins -> BigInt,
        tokens -> BigInt,
        errors -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    initial_access_tokens (token_hash) {
        token_hash -> Text,
        approve -> Bool,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        public_jwk -> Text,
        sealed_private -> Binary,
        kek_id -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        publish_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        sid -> Text,
        sub -> Text,
        auth_time -> BigInt,
        acr -> Text,
        amr -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    auth_requests (id) {
        id -> Text,
        client_id -> Text,
        request -> Text,
        login_sid -> Nullable<Text>,
        consent_sub -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        code_hash -> Nullable<Text>,
        client_id -> Text,
        sub -> Text,
        sid -> Nullable<Text>,
        scope -> Text,
        claims -> Nullable<Text>,
        nonce -> Nullable<Text>,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        auth_time -> BigInt,
        acr -> Text,
        amr -> Text,
        created_at -> BigInt,
        code_expires_at -> BigInt,
        code_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        dpop_jkt -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    used_jtis (jti) {
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    consents (sub, client_id) {
        sub -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    throttle (key) {
        key -> Text,
        failures -> Integer,
        window_start -> BigInt,
        locked_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> BigInt,
        kind -> Text,
        actor -> Text,
        client_id -> Nullable<Text>,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    passkeys (cred_id) {
        cred_id -> Text,
        sub -> Text,
        user_handle -> Text,
        name -> Text,
        credential -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        suspended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webauthn_ceremonies (id) {
        id -> Text,
        kind -> Text,
        sub -> Nullable<Text>,
        request_id -> Nullable<Text>,
        state -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    device_codes (device_code_hash) {
        device_code_hash -> Text,
        user_code -> Text,
        client_id -> Text,
        scope -> Text,
        status -> Text,
        sub -> Nullable<Text>,
        sid -> Nullable<Text>,
        acr -> Nullable<Text>,
        amr -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        interval_secs -> BigInt,
        last_poll_at -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    qr_logins (id_hash) {
        id_hash -> Text,
        binding_hash -> Text,
        request_id -> Nullable<Text>,
        status -> Text,
        sub -> Nullable<Text>,
        acr -> Nullable<Text>,
        amr -> Nullable<Text>,
        client_ip -> Text,
        browser -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    upstreams (code) {
        code -> Text,
        name -> Text,
        issuer -> Text,
        client_id -> Text,
        client_secret_sealed -> Binary,
        enabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    session_upstreams (sid) {
        sid -> Text,
        upstream_code -> Text,
        upstream_sid -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    federated_identities (upstream_code, upstream_sub) {
        upstream_code -> Text,
        upstream_sub -> Text,
        sub -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    status_lists (id) {
        id -> Text,
        capacity -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    licences (id) {
        id -> Text,
        licence_type -> Text,
        holder_lookup -> Text,
        holder_sealed -> Binary,
        claims_sealed -> Binary,
        valid_from -> BigInt,
        valid_until -> BigInt,
        state -> Text,
        status_list -> Text,
        status_idx -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    licence_certificates (role) {
        role -> Text,
        cert_der -> Binary,
        sealed_private -> Binary,
        kek_id -> Text,
        not_after -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    credential_offers (code_hash) {
        code_hash -> Text,
        licence_id -> Text,
        tx_code_hash -> Text,
        attempts -> BigInt,
        expires_at -> BigInt,
        spent_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    credential_tokens (token_hash) {
        token_hash -> Text,
        licence_id -> Text,
        expires_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    operator_roles (sub, role) {
        sub -> Text,
        role -> Text,
        granted_at -> BigInt,
        granted_by -> Text,
    }
}

diesel::table! {
    corrections (id) {
        id -> Text,
        sub -> Text,
        topic -> Text,
        detail -> Text,
        state -> Text,
        filed_at -> BigInt,
        decided_at -> Nullable<BigInt>,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    ratings (sub, client_id) {
        sub -> Text,
        client_id -> Text,
        score -> Text,
        comment -> Nullable<Text>,
        rated_at -> BigInt,
    }
}
