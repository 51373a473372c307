# Run inside the PostgreSQL container by roles/local_postgres (sh -c).
# Ensures the application's login role and its database exist, and that the
# superuser and the application role accept the passwords given. Prints one
# line per change and nothing when everything was in place.
# Environment: PGSUPERUSER, SUPERUSER_PASSWORD, APP_USER, APP_PASSWORD, APP_DATABASE.
# Passwords travel in the environment and psql's \getenv, never in argv.
set -eu

# The socket is trusted (as in the official image): the superuser needs no password.
admin() {
	psql -X -q -t -A -v ON_ERROR_STOP=1 -U "$PGSUPERUSER" -d postgres "$@"
}

# Passwords are checked only for remote hosts (127.0.0.1 is trusted too), so the
# login test goes to the container's own address.
can_login() {
	PGPASSWORD="$2" psql -X -q -w -h "$(hostname)" -U "$1" -d postgres -c 'SELECT 1' >/dev/null 2>&1
}

admin -v app_user="$APP_USER" -v app_database="$APP_DATABASE" <<'SQL'
\getenv app_password APP_PASSWORD
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') AS create_role \gset
\if :create_role
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
\echo created role :app_user
\endif
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_database') AS create_database \gset
\if :create_database
CREATE DATABASE :"app_database" OWNER :"app_user";
\echo created database :app_database
\endif
SQL

# set_password ROLE ENV_VAR: (re)sets the role's password from $ENV_VAR.
set_password() {
	admin -v role="$1" -v password_var="$2" <<'SQL'
\getenv password :password_var
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
\echo set the password of role :role
SQL
}

if ! can_login "$APP_USER" "$APP_PASSWORD"; then
	set_password "$APP_USER" APP_PASSWORD
fi
if ! can_login "$PGSUPERUSER" "$SUPERUSER_PASSWORD"; then
	set_password "$PGSUPERUSER" SUPERUSER_PASSWORD
fi
