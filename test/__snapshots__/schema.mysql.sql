CREATE TABLE `audit_log` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `at` bigint(20) NOT NULL,
  `actor_user_id` varchar(255) DEFAULT NULL,
  `action` varchar(64) NOT NULL,
  `target_type` varchar(32) NOT NULL,
  `target_id` varchar(255) NOT NULL,
  `before_json` text DEFAULT NULL,
  `after_json` text DEFAULT NULL,
  `request_id` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `audit_log_at` (`at`),
  KEY `audit_log_target` (`target_type`,`target_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `browser_sessions` (
  `id_hash` varchar(64) NOT NULL,
  `user_id` varchar(255) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `last_seen_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id_hash`),
  KEY `browser_sessions_user` (`user_id`),
  KEY `browser_sessions_expiry` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `certificates` (
  `common_name` varchar(64) NOT NULL,
  `profile_id` varchar(255) NOT NULL,
  `node_id` varchar(255) NOT NULL,
  `user_id` varchar(255) NOT NULL,
  `authorization_id` varchar(64) DEFAULT NULL,
  `display_name` varchar(255) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  PRIMARY KEY (`common_name`),
  KEY `certificates_user` (`user_id`),
  KEY `certificates_authorization` (`authorization_id`),
  KEY `certificates_expiry` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `connection_log` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `user_id` varchar(255) NOT NULL,
  `profile_id` varchar(255) NOT NULL,
  `node_id` varchar(255) NOT NULL,
  `vpn_proto` varchar(16) NOT NULL,
  `connection_id` varchar(64) NOT NULL,
  `ip_four` varchar(64) DEFAULT NULL,
  `ip_six` varchar(64) DEFAULT NULL,
  `originating_ip` varchar(64) DEFAULT NULL,
  `connected_at` bigint(20) NOT NULL,
  `disconnected_at` bigint(20) DEFAULT NULL,
  `bytes_in` bigint(20) DEFAULT NULL,
  `bytes_out` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `connection_log_connection` (`connection_id`),
  KEY `connection_log_ip_four` (`ip_four`),
  KEY `connection_log_ip_six` (`ip_six`),
  KEY `connection_log_user` (`user_id`),
  KEY `connection_log_connected` (`connected_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `local_accounts` (
  `user_id` varchar(255) NOT NULL,
  `password_hash` varchar(255) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `nodes` (
  `id` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `host_name` varchar(255) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `revoked_at` bigint(20) DEFAULT NULL,
  `wg_public_key` varchar(64) DEFAULT NULL,
  `enrollment_hash` varchar(64) DEFAULT NULL,
  `enrollment_expires_at` bigint(20) DEFAULT NULL,
  `credential_hash` varchar(64) DEFAULT NULL,
  `enrolled_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`),
  KEY `nodes_enrollment` (`enrollment_hash`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `node_profiles` (
  `node_id` varchar(255) NOT NULL,
  `profile_id` varchar(255) NOT NULL,
  `host_name` varchar(255) DEFAULT NULL,
  `wg_range_four` varchar(64) DEFAULT NULL,
  `wg_range_six` varchar(64) DEFAULT NULL,
  `ovpn_range_four` varchar(64) DEFAULT NULL,
  `ovpn_range_six` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`node_id`,`profile_id`),
  KEY `node_profiles_profile` (`profile_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `node_status` (
  `node_id` varchar(255) NOT NULL,
  `agent_version` varchar(64) DEFAULT NULL,
  `applied_revision` bigint(20) DEFAULT NULL,
  `wanted_revision` bigint(20) DEFAULT NULL,
  `connected` int(11) NOT NULL DEFAULT 0,
  `last_seen_at` bigint(20) DEFAULT NULL,
  `load_json` text DEFAULT NULL,
  `sessions_json` text DEFAULT NULL,
  `updated_at` bigint(20) NOT NULL,
  PRIMARY KEY (`node_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `oauth_authorizations` (
  `id` varchar(64) NOT NULL,
  `user_id` varchar(255) NOT NULL,
  `client_id` varchar(255) NOT NULL,
  `scope` varchar(255) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  `refresh_seq` int(11) NOT NULL,
  `last_used_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `oauth_authorizations_user` (`user_id`),
  KEY `oauth_authorizations_expiry` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `oauth_clients` (
  `id` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `redirect_uris` text NOT NULL,
  `requires_approval` int(11) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `oauth_codes` (
  `code_hash` varchar(64) NOT NULL,
  `user_id` varchar(255) NOT NULL,
  `client_id` varchar(255) NOT NULL,
  `redirect_uri` varchar(1024) NOT NULL,
  `code_challenge` varchar(128) NOT NULL,
  `scope` varchar(255) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  `used_at` bigint(20) DEFAULT NULL,
  `authorization_id` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`code_hash`),
  KEY `oauth_codes_expiry` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `profiles` (
  `id` varchar(255) NOT NULL,
  `display_name` varchar(255) NOT NULL,
  `host_name` varchar(255) NOT NULL,
  `default_gateway` int(11) NOT NULL,
  `dns_servers` text NOT NULL,
  `dns_search_domains` text NOT NULL,
  `routes` text NOT NULL,
  `exclude_routes` text NOT NULL,
  `acl_permissions` text DEFAULT NULL,
  `wg_enabled` int(11) NOT NULL,
  `wg_range_four` varchar(64) DEFAULT NULL,
  `wg_range_six` varchar(64) DEFAULT NULL,
  `wg_port` int(11) NOT NULL,
  `ovpn_enabled` int(11) NOT NULL,
  `ovpn_range_four` varchar(64) DEFAULT NULL,
  `ovpn_range_six` varchar(64) DEFAULT NULL,
  `ovpn_udp_ports` text NOT NULL,
  `ovpn_tcp_ports` text NOT NULL,
  `preferred_proto` varchar(16) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `updated_at` bigint(20) NOT NULL,
  `tls_crypt_key` text DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `schema_migrations` (
  `name` varchar(191) NOT NULL,
  `state` varchar(16) NOT NULL,
  `started_at` bigint(20) NOT NULL,
  `finished_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `session_stats` (
  `node_id` varchar(255) NOT NULL,
  `profile_id` varchar(255) NOT NULL,
  `vpn_proto` varchar(16) NOT NULL,
  `minute` bigint(20) NOT NULL,
  `sessions` int(11) NOT NULL,
  PRIMARY KEY (`node_id`,`profile_id`,`vpn_proto`,`minute`),
  KEY `session_stats_minute` (`minute`),
  KEY `session_stats_profile_minute` (`profile_id`,`minute`,`sessions`),
  KEY `session_stats_node_minute` (`node_id`,`minute`,`sessions`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `sso_states` (
  `state_hash` varchar(64) NOT NULL,
  `provider_id` varchar(64) NOT NULL,
  `browser_hash` varchar(64) NOT NULL,
  `nonce` varchar(255) NOT NULL,
  `code_verifier` varchar(255) NOT NULL,
  `next` varchar(2048) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  `used_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`state_hash`),
  KEY `sso_states_expiry` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `users` (
  `id` varchar(255) NOT NULL,
  `display_name` varchar(255) DEFAULT NULL,
  `is_admin` int(11) NOT NULL DEFAULT 0,
  `is_disabled` int(11) NOT NULL DEFAULT 0,
  `permissions` text NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `last_seen_at` bigint(20) DEFAULT NULL,
  `auth_provider` varchar(64) DEFAULT NULL,
  `permissions_at` bigint(20) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE `wg_peers` (
  `public_key` varchar(64) NOT NULL,
  `profile_id` varchar(255) NOT NULL,
  `node_id` varchar(255) NOT NULL,
  `user_id` varchar(255) NOT NULL,
  `authorization_id` varchar(64) DEFAULT NULL,
  `display_name` varchar(255) NOT NULL,
  `ip_four` varchar(64) NOT NULL,
  `ip_six` varchar(64) NOT NULL,
  `created_at` bigint(20) NOT NULL,
  `expires_at` bigint(20) NOT NULL,
  PRIMARY KEY (`public_key`),
  UNIQUE KEY `ip_four` (`ip_four`),
  UNIQUE KEY `ip_six` (`ip_six`),
  KEY `wg_peers_user` (`user_id`),
  KEY `wg_peers_authorization` (`authorization_id`),
  KEY `wg_peers_node_profile` (`node_id`,`profile_id`),
  KEY `wg_peers_expiry` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
