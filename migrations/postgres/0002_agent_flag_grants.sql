-- Per-agent flag grants: the X-TapPass-Flags an agent may loosen below the server's values,
-- as a comma-separated list of flag names (`mode,pii`). Empty: the agent can only tighten.
ALTER TABLE agents ADD COLUMN flag_grants TEXT NOT NULL DEFAULT '';
