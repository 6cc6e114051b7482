//! Unit tests of the secrets detector.

use super::*;
use crate::detect::EntityKind;

fn kinds(text: &str) -> Vec<(EntityKind, String)> {
    detect_secrets(text)
        .into_iter()
        .map(|f| (f.kind, text[f.start..f.end].to_string()))
        .collect()
}

fn assert_one(text: &str, kind: EntityKind, value: &str) {
    let got = kinds(text);
    assert_eq!(got, vec![(kind, value.to_string())], "text: {text:?}");
}

fn assert_none(text: &str) {
    assert_eq!(kinds(text), vec![], "text: {text:?}");
}

const JWT_OK: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

#[test]
fn aws_access_key() {
    assert_one(
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        EntityKind::AwsAccessKey,
        "AKIAIOSFODNN7EXAMPLE",
    );
    assert_one(
        "creds: ASIAY34FZKBOKMUTVV7A (session)",
        EntityKind::AwsAccessKey,
        "ASIAY34FZKBOKMUTVV7A",
    );
    assert_none("AKIAXXXXXXXXXXXXXXXX is the placeholder");
    assert_none("AKIAIOSFODNN7EXAMPLEX is too long");
    assert_none("xAKIAIOSFODNN7EXAMPLE glued to a word");
    assert_none("AKIA1234 short");
}

#[test]
fn aws_secret_key() {
    assert_one(
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        EntityKind::AwsSecretKey,
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    assert_one(
        r#"{"SecretAccessKey": "9drTJvcXLB89EXAMPLELB8923FB892xMFI/Kq7z+"}"#,
        EntityKind::AwsSecretKey,
        "9drTJvcXLB89EXAMPLELB8923FB892xMFI/Kq7z+",
    );
    assert_one(
        "aws configure set aws_secret_access_key Zq3v8TnB1mR7kLp0Xw2Yc5Hd9Ja4Fs6Ge/Ut+Vo1",
        EntityKind::AwsSecretKey,
        "Zq3v8TnB1mR7kLp0Xw2Yc5Hd9Ja4Fs6Ge/Ut+Vo1",
    );
    assert_eq!(
        kinds("AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        vec![
            (EntityKind::AwsAccessKey, "AKIAIOSFODNN7EXAMPLE".to_string()),
            (
                EntityKind::AwsSecretKey,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string()
            )
        ]
    );
    // a git SHA (hex, 40 chars) is not an AWS secret, and with no secret name not anything
    assert_none("commit 9fceb02d0ae598e95dc970b74767f19372d61af8");
    assert_none("aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}");
}

#[test]
fn github_and_gitlab() {
    assert_one(
        "git push https://ghp_R8nX2vLq9TzW4kYm7PbC3dHs6FjA1eGu0iKo@github.com/o/r",
        EntityKind::GithubToken,
        "ghp_R8nX2vLq9TzW4kYm7PbC3dHs6FjA1eGu0iKo",
    );
    assert_one(
        "GH_TOKEN=gho_16C7e42F292c6912E7710c838347Ae178B4a",
        EntityKind::GithubToken,
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    );
    let pat = "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012345";
    assert_one(&format!("token: {pat}"), EntityKind::GithubToken, pat);
    assert_one(
        "glpat-x9Kq2Lm7Rt4Vb8Nc1Zw3 leaked",
        EntityKind::GitlabToken,
        "glpat-x9Kq2Lm7Rt4Vb8Nc1Zw3",
    );
    assert_none("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_none("ghp_abc is too short");
    assert_none("glpat-<your-token-here>");
}

#[test]
fn slack() {
    assert_one(
        "SLACK_BOT_TOKEN=xoxb-2489135570-4812630957-Qm8wT3kZr5Yp1Lx7Vn2Hc9Bd",
        EntityKind::SlackToken,
        "xoxb-2489135570-4812630957-Qm8wT3kZr5Yp1Lx7Vn2Hc9Bd",
    );
    let hook = "https://hooks.slack.com/services/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";
    assert_one(
        &format!("curl -X POST {hook} -d '{{}}'"),
        EntityKind::SlackToken,
        hook,
    );
    assert_none("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");
    assert_none("xoxb-your-token-here");
}

#[test]
fn stripe_google() {
    assert_one(
        "stripe.api_key = 'sk_live_51Hx9QeK2bRt7mZp4LwVc8NfY'",
        EntityKind::StripeKey,
        "sk_live_51Hx9QeK2bRt7mZp4LwVc8NfY",
    );
    assert_one(
        "pk_test_TYooMQauvdEDq54NiTphI7jx is fine",
        EntityKind::StripeKey,
        "pk_test_TYooMQauvdEDq54NiTphI7jx",
    );
    assert_one(
        "maps key AIzaSyD3kPq8Xw2Lm9Rt5Vb7Nc1Zh4Jf6Gs0Ue8 in the URL",
        EntityKind::GoogleApiKey,
        "AIzaSyD3kPq8Xw2Lm9Rt5Vb7Nc1Zh4Jf6Gs0Ue8",
    );
    assert_none("sk_live_xxxxxxxxxxxxxxxxxxxxxxxx");
    assert_none("AIzaSyD3kPq8Xw2 truncated");
}

#[test]
fn openai_anthropic() {
    assert_one(
        "OPENAI_API_KEY=sk-proj-Tq8vL2mX9rKz4WbN7cYp1HdJ3fGs6Ae0Uo5Vi",
        EntityKind::OpenaiApiKey,
        "sk-proj-Tq8vL2mX9rKz4WbN7cYp1HdJ3fGs6Ae0Uo5Vi",
    );
    assert_one(
        "client = OpenAI(api_key=\"sk-4fJ9kL2mN8pQ1rS5tU7vW3xY6zA0bC\")",
        EntityKind::OpenaiApiKey,
        "sk-4fJ9kL2mN8pQ1rS5tU7vW3xY6zA0bC",
    );
    assert_one(
        "x-api-key: sk-ant-api03-Rk2Lm9Xq4Tv7Wz1Bn5Cp8Dh3Fj6Gs0Ue2Yo4Ia-9QwE",
        EntityKind::AnthropicApiKey,
        "sk-ant-api03-Rk2Lm9Xq4Tv7Wz1Bn5Cp8Dh3Fj6Gs0Ue2Yo4Ia-9QwE",
    );
    assert_none("pip install sk-learn? no, scikit-learn");
    assert_none("set OPENAI_API_KEY=sk-... before running");
    assert_none("sk-this-is-not-a-real-key-example");
    assert_none("sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

#[test]
fn jwt() {
    assert_one(
        &format!("Authorization: Bearer {JWT_OK}"),
        EntityKind::Jwt,
        JWT_OK,
    );
    assert_none("a JWT looks like eyJhbGciOi.eyJzdWIiOi.signature");
    assert_none("Bearer eyJhbGciOiJIUzI1NiJ9xx.eyJfoo.bar");
    // header decodes but is not a JOSE header (no alg)
    assert_none("eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl");
}

#[test]
fn private_key() {
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n";
    let block = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----");
    assert_one(
        &format!("key.pem:\n{block}\nthanks"),
        EntityKind::PrivateKey,
        &block,
    );
    // JSON-escaped (service account file)
    let esc = format!(
        "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n",
        body.replace('\n', "\\n")
    );
    let got = kinds(&format!("{{\"private_key\": \"{esc}\"}}"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, EntityKind::PrivateKey);
    assert!(got[0].1.ends_with("-----END PRIVATE KEY-----"));
    // truncated: BEGIN line plus the material
    let trunc = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}", body.trim_end());
    assert_one(&format!("{trunc}\n"), EntityKind::PrivateKey, &trunc);
    assert_none("error: expected -----BEGIN RSA PRIVATE KEY----- at line 1");
    assert_none("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----");
    assert_none("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----");
    // base64 of a PEM block (Kubernetes secret)
    let b64 = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBdTFTVTFMZlZMUEhDb3pNeEgyTW80bGdPRWVQek5tMHRSZ2VMZXpWNmZmQXQwZ3VuClZUTHc3b25MUm5ycTAvSXpXN3lXUjdRa3JtQkw3alRLRW41dStxS2hid0tmQnN0SXMrYk1ZMlprcDE4Z25UeEsKLS0tLS1FTkQgUlNBIFBSSVZBVEUgS0VZLS0tLS0K";
    assert_one(
        &format!("data:\n  tls.key: {b64}\n"),
        EntityKind::PrivateKey,
        b64,
    );
    assert_none("  ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM1ekNDQWMrZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwK");
}

#[test]
fn password() {
    assert_one("password=hunter2", EntityKind::Password, "hunter2");
    assert_one(
        "db:\n  passwd: S3cure!pass#42\n",
        EntityKind::Password,
        "S3cure!pass#42",
    );
    assert_one(
        "mysql --user=root pwd=Tr0ub4dor",
        EntityKind::Password,
        "Tr0ub4dor",
    );
    assert_one(
        r#"{"user": "ana", "password": "correct horse battery staple"}"#,
        EntityKind::Password,
        "correct horse battery staple",
    );
    assert_one(
        "PGPASSWORD=pg_Rw7k2 psql -h db -U app",
        EntityKind::Password,
        "pg_Rw7k2",
    );
    assert_one(
        "my password is Summer2024! can you check",
        EntityKind::Password,
        "Summer2024!",
    );
    assert_one(
        "def login(password: str = \"letmein99\"):",
        EntityKind::Password,
        "letmein99",
    );
    assert_none("reset your password tomorrow");
    assert_none("password: ***");
    assert_none("password: <password>");
    assert_none("password=${PASSWORD}");
    assert_none("password: changeme");
    assert_none("def login(username: str, password: str) -> bool:");
    assert_none("conn = connect(password=os.environ['DB_PASSWORD'])");
    assert_none("connect(password=password, user=user)");
    assert_none("Password: must be at least 12 characters");
    assert_none("the password is incorrect");
    assert_none("PWD=/home/alice/projects/app");
    assert_none("password_min_length: 12");
    assert_none("\"password\": null");
    assert_none("PASS: test_login_flow");
    // .netrc, command lines, escaped JSON, other languages, qualified names
    assert_one(
        "machine api.acme.dev\n  login deploy\n  password 9xTq2!vLm",
        EntityKind::Password,
        "9xTq2!vLm",
    );
    assert_one(
        "curl -u admin:Adm1n-P4ss https://ci.acme.dev/api/json",
        EntityKind::Password,
        "Adm1n-P4ss",
    );
    assert_one(
        "mysqldump -h db -uroot -pR00t!Pw orders > o.sql",
        EntityKind::Password,
        "R00t!Pw",
    );
    assert_one("mysql -pR00t!Pw", EntityKind::Password, "R00t!Pw");
    assert_one(
        r#"body="{\"user\": \"ana\", \"password\": \"Esc4ped!pw\"}""#,
        EntityKind::Password,
        "Esc4ped!pw",
    );
    assert_one(
        "Mein Passwort: Sonnenblume-77 funktioniert nicht",
        EntityKind::Password,
        "Sonnenblume-77",
    );
    assert_one(
        "mot de passe : Cr0issant#42",
        EntityKind::Password,
        "Cr0issant#42",
    );
    assert_one(
        "contraseña=Tortilla_2024",
        EntityKind::Password,
        "Tortilla_2024",
    );
    assert_one(
        "DB_PASSWORD_PROD=Pr0d-Db-Pw",
        EntityKind::Password,
        "Pr0d-Db-Pw",
    );
    assert_none("docker run -u 1000:1000 -p 8080:80 nginx");
    assert_none("docker run -v $PWD:/app -w /app node:20");
    assert_one("$pwd = 'R3p0rt!ng';", EntityKind::Password, "R3p0rt!ng");
    assert_none("mysql -u root -p orders");
    assert_none("Passwort vergessen? Klicken Sie hier.");
    assert_none("password = getpass.getpass(\"Password: \")");
    assert_none("docker login --username ci --password-stdin < token.txt");
    assert_none("password_hash: $2b$12$KIXQJ0yF7e2g8mWcQzq6UeS1pZ3YwT6r0Qx2W9bH1aC4dE5fG6hI");
    assert_none("login page: the password field is empty");
    assert_none("anonymous ftp: the password is echoed!");
    assert_none("socat -u TCP4-LISTEN:3334,reuseaddr,fork - | tee out");
    assert_none("/// `pass=`/`password=` values in the query part become `***`.");
    assert_none("pub log_passwd: __u32,");
    // code, not credentials
    for code in [
        "pub password: Option<String>,",
        "fn f(pwd: *mut passwd, buf: *mut c_char)",
        "NL80211_ATTR_SAE_PASSWORD = 277,",
        "let mut passwd = mem::MaybeUninit::<PassWd>::uninit();",
        "if( eOnePass==ONEPASS_MULTI ){",
        "ctx->store_pass = value;",
        "in_filter_pass: Cell<usize>,",
        "Password::Md5 { .. } => {",
        "pub const B_MAIL_WRONG_PASSWORD: status_t = B_MAIL_ERROR_BASE + 2;",
        "let stmt = \"UPDATE users SET password = :password WHERE id = :id\";",
    ] {
        assert_none(code);
    }
    assert_one(
        "let password = \"s3cr3t-Lit3ral\";",
        EntityKind::Password,
        "s3cr3t-Lit3ral",
    );
}

#[test]
fn connection_string() {
    let u = "postgres://app_user:Zk9wq2Lm@db.internal:5432/orders?sslmode=require";
    assert_one(
        &format!("DATABASE_URL={u}"),
        EntityKind::ConnectionString,
        u,
    );
    assert_one(
        "redis://:s3cr3tR3dis@cache:6379/0.",
        EntityKind::ConnectionString,
        "redis://:s3cr3tR3dis@cache:6379/0",
    );
    assert_one(
        "uri = \"mongodb+srv://svc:Pq7Xr2Wk@cluster0.mongodb.net/app\"",
        EntityKind::ConnectionString,
        "mongodb+srv://svc:Pq7Xr2Wk@cluster0.mongodb.net/app",
    );
    assert_none("postgres://localhost:5432/orders");
    assert_none("mongodb://db1:27017,db2:27017/app?replicaSet=rs0");
    assert_none("postgres://user:password@localhost/db");
    assert_none("postgres://${DB_USER}:${DB_PASS}@db/app");
    assert_none("https://github.com/org/repo");
    assert_none("git@github.com:org/repo.git");
    assert_none("postgresql://[user[:password]@][host][:port][/dbname]");
    assert_none("http://a:b@www.example.com/ and http://::@c@d:2");
}

#[test]
fn generic_secret() {
    assert_one(
        "api_key = \"a8F3kL9qR2vX7mN4pT6wZ1cY\"",
        EntityKind::GenericSecret,
        "a8F3kL9qR2vX7mN4pT6wZ1cY",
    );
    assert_one(
        "curl -H 'Authorization: Bearer Qk7vN2xR9mT4wL8pZ3cY6bH1' https://api.example.com",
        EntityKind::GenericSecret,
        "Qk7vN2xR9mT4wL8pZ3cY6bH1",
    );
    assert_one(
        "client_secret: 7Fh2Kq9Lm4Xw8Rt3Vb6Nc1Zd",
        EntityKind::GenericSecret,
        "7Fh2Kq9Lm4Xw8Rt3Vb6Nc1Zd",
    );
    assert_one(
        "--auth-token 5d41402abc4b2a76b9719d911017c592",
        EntityKind::GenericSecret,
        "5d41402abc4b2a76b9719d911017c592",
    );
    assert_one(
        r#"headers = {"X-Api-Key": "tp_live_9Gh3Kx7Qm2Wz5Rv8Lb4N"}"#,
        EntityKind::GenericSecret,
        "tp_live_9Gh3Kx7Qm2Wz5Rv8Lb4N",
    );
    // a vendor token after a secret name is reported once, as the vendor kind
    assert_one(
        "token=ghp_R8nX2vLq9TzW4kYm7PbC3dHs6FjA1eGu0iKo",
        EntityKind::GithubToken,
        "ghp_R8nX2vLq9TzW4kYm7PbC3dHs6FjA1eGu0iKo",
    );
    assert_none("token = test");
    assert_none("api_key=abc");
    assert_none("max_tokens: 4096");
    assert_none("api_key: this-is-my-secret-token");
    assert_none("request_id = 8f14e45f-ceea-467f-a9f4-2b1c0d2e7a11");
    // a UUID after a credential name is the credential (Heroku, Snyk, many API gateways)
    assert_one(
        "api_key = 8f14e45f-ceea-467f-a9f4-2b1c0d2e7a11",
        EntityKind::GenericSecret,
        "8f14e45f-ceea-467f-a9f4-2b1c0d2e7a11",
    );
    assert_none("sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_none("next_page_token: CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA3");
    assert_none("secret_name: prod/db/credentials-v2");
    assert_none("token_path: /var/run/secrets/kubernetes.io/serviceaccount/token");
    assert_none("api_key: YOUR_API_KEY_HERE_1234567890");
    assert_none(
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
    );
    assert_none("tp_9Gh3Kx7Qm2Wz5Rv8Lb4N in prose without a name");
    assert_one(
        "SECRET_KEY_BASE=9c1f4e7a2b8d3f6e0a5c9b8d7e6f1a2b3c4d5e6f",
        EntityKind::GenericSecret,
        "9c1f4e7a2b8d3f6e0a5c9b8d7e6f1a2b3c4d5e6f",
    );
    assert_one(
        "auth token: Zr4Nq8Wx2Lm6Tk9Pb3Vc7Yh1",
        EntityKind::GenericSecret,
        "Zr4Nq8Wx2Lm6Tk9Pb3Vc7Yh1",
    );
    assert_one(
        "GET /export?format=csv&access_token=Gq7Lm2Xw9Rk4Tz8Vb3Nc6H1 HTTP/1.1",
        EntityKind::GenericSecret,
        "Gq7Lm2Xw9Rk4Tz8Vb3Nc6H1",
    );
    assert_none("GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}");
    assert_none("WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"");
    assert_none("\"password\": \"{{ vault_db_password }}\"");
    for code in [
        "let secret_key = BigEndian::read_u32(&buf[4..]);",
        "let generate_private_key = x25519_generate_private_key;",
        "let grandchild_token = child1_token.child_token();",
        "pub const IFLA_INET6_TOKEN: _bindgen_ty_5 = _bindgen_ty_5::IFLA_INET6_TOKEN;",
        "let private_key = RsaPrivateKey::from_pkcs8_pem(pem).unwrap();",
        "master_secret: Zeroizing::new(PayloadU8::new(ms.to_vec())),",
    ] {
        assert_none(code);
    }
}

#[test]
fn vendor_table_is_consistent() {
    let mut anchors: Vec<&str> = VENDORS.iter().map(|(a, _)| *a).collect();
    anchors.sort_unstable();
    let n = anchors.len();
    anchors.dedup();
    assert_eq!(anchors.len(), n, "an anchor is listed twice");
    for (a, rule) in VENDORS {
        if let Rule::Tok(t) = rule {
            assert!(t.min <= t.max && t.min > 0, "{a}");
        }
    }
}

#[test]
fn saas_token_formats() {
    for token in [
        "SG.u8jzPde0IgxLd6GncfBAep.fJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJT",
        "npm_eKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCsMeh",
        "hf_GAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rE",
        "dop_v1_219e9cb0eb53f16947ccf25ec84d8dbc74254770f58904dba41ecccc3fc1626e",
        "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",
        "dp.pt.Hbn88HxjSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZp",
        "hvs.0zVZomHFwUbbYrEqmSM9wCZ7Uw9xfogoEmvnEN5N1aE6PwZPf1Qh6yYTWmE4lBYOvfZ8UzDzV8fUkkibjL5DZPjN0ME",
        "lin_api_Q7wjJJibaZUPgHV7iB3m03nbqnsGpWLuqIA1id6V",
        "PMAK-bed440e50454f31af3176813-e02ea68ef786e4d3cea27d26934b484e73",
        "7412589630:AAz4FkQ1okTBGzvAmwufUxbvJDCTbyvHNsG",
        "Zk87Q~9eh6Yo4gfqrc5XlrWi0B26R08qzjI6GKFS",
        "a2815d2802827283e0ad841735815699-us14",
        "pypi-AgEIcHlwaS5vcmcvyfErGPmpGXafq0fjzLczbttOofL9H2WjQ5TY4MyWuUFjsUNPjc01T5GOBUSZGi6HWGK10Zb0RLZ5TR9",
    ] {
        // bare in prose: the format alone is enough
        assert_one(
            &format!("the value {token} was in the log"),
            EntityKind::GenericSecret,
            token,
        );
    }
    assert_one(
        "curl https://api.telegram.org/bot7412589630:AAz4FkQ1okTBGzvAmwufUxbvJDCTbyvHNsG/getMe",
        EntityKind::GenericSecret,
        "7412589630:AAz4FkQ1okTBGzvAmwufUxbvJDCTbyvHNsG",
    );
    let sas = "SPofbciOx9gy1CJdObOIRpFqaDZeV7G5IfQHeVVEqZe2%3D";
    assert_one(
        &format!(
            "https://acme.blob.core.windows.net/x/y.csv?sv=2022-11-02&sp=r&se=2026-01-01&sig={sas}"
        ),
        EntityKind::GenericSecret,
        sas,
    );
    let age = "AGE-SECRET-KEY-1DJUT3KPSZQPV70UXMLENDW4VGEKRGQYSM2R9CJ0JZAT23UQSH450ZNDKTQ";
    assert_one(
        &format!("# created: today\n{age}\n"),
        EntityKind::PrivateKey,
        age,
    );
    // formats described, truncated or stood in for
    for text in [
        "npm tokens start with npm_ followed by 36 characters",
        "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SENDGRID_API_KEY=SG.xxxxxxxx.yyyyyyyy",
        "dop_v1_ tokens are 64 hex characters",
        "see the ?sig=abc parameter",
        "sig=SPofbciOx9gy1CJdObOIRpFqaDZeV7G5IfQHeVVEqZe2%3D without a service version",
        "TELEGRAM_BOT_TOKEN=123456789:YOUR_BOT_TOKEN",
        "the sku SK-2291 and the DESK12 model",
        "en-us and de-de locales",
    ] {
        assert_none(text);
    }
}

#[test]
fn authorization_headers() {
    // JWT-shaped tokens are JWTs there even when the payload does not decode
    let garbled = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJq3kLm9Qx2Vb7Wn4Rt8Yz1Pc6Hd.Tq8vL2mX9rKz4WbN7cYp1HdJ3fGs6Ae0Uo5Vi";
    assert_one(
        &format!("Authorization: Bearer {garbled}"),
        EntityKind::Jwt,
        garbled,
    );
    assert_one(
        "authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJq3kLm",
        EntityKind::Jwt,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJq3kLm",
    );
    for (text, value) in [
        ("X-Api-Key: abc123def456", "abc123def456"),
        (
            "Authorization: Splunk 7c29aae1-38b6-4580-ab54-22b0dbc7b6d1",
            "7c29aae1-38b6-4580-ab54-22b0dbc7b6d1",
        ),
        (
            "Authorization: SSWS 00Qk7vN2xR9mT4wL8pZ3cY6bH1",
            "00Qk7vN2xR9mT4wL8pZ3cY6bH1",
        ),
        (
            r#"headers = {"Authorization": "Bearer Qk7vN2xR9mT4wL8pZ3"}"#,
            "Qk7vN2xR9mT4wL8pZ3",
        ),
        (
            r#"req.Header.Set("X-Api-Key", "Qk7vN2xR9mT4wL8pZ3cY")"#,
            "Qk7vN2xR9mT4wL8pZ3cY",
        ),
        (
            "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "YWxhZGRpbjpvcGVuc2VzYW1l",
        ),
        (
            "send: b'Authorization: Bearer xT63eaut9jVVgz9Js9tjn8LU7z6W\\r\\n'",
            "xT63eaut9jVVgz9Js9tjn8LU7z6W",
        ),
        (
            "x-api-key: 8f14e45f-ceea-467f-a9f4-2b1c0d2e7a11",
            "8f14e45f-ceea-467f-a9f4-2b1c0d2e7a11",
        ),
    ] {
        assert_one(text, EntityKind::GenericSecret, value);
    }
    for text in [
        "Authorization: Bearer <YOUR_ACCESS_TOKEN>",
        "Authorization: Bearer $TOKEN",
        "Authorization: Bearer ${API_TOKEN}",
        "Authorization: Bearer {{access_token}}",
        "Authorization: Bearer ...",
        "Authorization: Bearer [REDACTED]",
        "X-Api-Key: YOUR_API_KEY",
        "Authorization: Basic base64(username:password)",
        "req.Header.Set(\"Authorization\", \"Bearer \"+token)",
        "Authorization header missing; send a Bearer token",
        "Idempotency-Key: 8f14e45f-ceea-467f-a9f4-2b1c0d2e7a11",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/s3/aws4_request",
    ] {
        let got = kinds(text);
        assert!(
            got.iter().all(|(k, _)| *k == EntityKind::AwsAccessKey),
            "{text:?}: {got:?}"
        );
    }
}

#[test]
fn more_key_value_forms() {
    assert_one(
        r#"<add key="ApiKey" value="lhm9cp0Y9UuMUPJUBFSdr3WqKyn8I0jI" />"#,
        EntityKind::GenericSecret,
        "lhm9cp0Y9UuMUPJUBFSdr3WqKyn8I0jI",
    );
    assert_one(
        "<server><id>r</id><password>0pdirHTg0GI5UWq3</password></server>",
        EntityKind::Password,
        "0pdirHTg0GI5UWq3",
    );
    assert_one(
        "ERROR rejected credentials token=lwuE04UChiOAQOkC0dqTQuW9MOlDo8Ku status=401",
        EntityKind::GenericSecret,
        "lwuE04UChiOAQOkC0dqTQuW9MOlDo8Ku",
    );
    assert_one(
        "our datadog api key efb7aedb5060be0622b244113a888a8a got rate limited",
        EntityKind::GenericSecret,
        "efb7aedb5060be0622b244113a888a8a",
    );
    assert_one(
        "WARN DataSourceProperties : password=[Els+PJ9!&dA] user=[billing]",
        EntityKind::Password,
        "Els+PJ9!&dA",
    );
    assert_one(
        "rabbitmqDefaultPass: \"D*uspet0jMsc\"",
        EntityKind::Password,
        "D*uspet0jMsc",
    );
    assert_one(
        "let res = client.get(url).bearer_auth(\"7ZSyOCvkxKms9NYo5m0YMs7IZaxGiz2KsaHiGQJR\");",
        EntityKind::GenericSecret,
        "7ZSyOCvkxKms9NYo5m0YMs7IZaxGiz2KsaHiGQJR",
    );
    assert_one(
        "Das Passwort ist Tannenbaum#9",
        EntityKind::Password,
        "Tannenbaum#9",
    );
    // a key named so is a private key (Ethereum, WireGuard)
    assert_one(
        "PRIVATE_KEY=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        EntityKind::PrivateKey,
        "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    );
    for (cmd, pw) in [
        ("sshpass -p 'Tr0ub4dor&3' ssh deploy@bastion", "Tr0ub4dor&3"),
        ("redis-cli -h cache -a s3cr3tR3dis INFO", "s3cr3tR3dis"),
        (
            "lftp -u backup,Falcon389 sftp://files.acme.dev",
            "Falcon389",
        ),
        (
            "docker login -u bot -p Qk7vN2xR9mT4 registry.acme.dev",
            "Qk7vN2xR9mT4",
        ),
    ] {
        assert_one(cmd, EntityKind::Password, pw);
    }
    for text in [
        "password: !Ref DbPasswordParameter",
        "password: vault:secret/data/orders#db_password",
        "token = op://Engineering/GitHub/credential",
        "password = \"test\"",
        "PASSWORD=dummy",
        "password: \"%(db_password)s\"",
        "mysqldump -u backup -p\"$MYSQL_PWD\" orders",
        "api_key = os.environ[\"OPENAI_API_KEY\"]",
        "secret_key_ref = client.secrets.get(name=\"stripe-live\")",
        "the token bucket refills at 10 tokens per second",
    ] {
        assert_none(text);
    }
}

#[test]
fn more_private_keys_and_urls() {
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n";
    let pgp = format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2 (GNU/Linux)\nComment: <release>\n\n{body}=Xk2q\n-----END PGP PRIVATE KEY BLOCK-----"
    );
    assert_one(&format!("key:\n{pgp}\n"), EntityKind::PrivateKey, &pgp);
    let enc = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,9F86D081884C7D65\n\n{}",
        body.trim_end()
    );
    assert_one(&enc, EntityKind::PrivateKey, &enc);
    let ppk = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIXfDjugmcJdw/CIVG2kTn2Eg8Ye1kOUQLxDW5MBA\nix04M/mIo7PN3mEBnhbS\nPrivate-Lines: 1\nxVylyMuxklFyweXMQkviRFuABV27WhP0Gx8Yk1QmZb4RtUwE\nPrivate-MAC: 5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99";
    assert_one(ppk, EntityKind::PrivateKey, ppk);
    for url in [
        "postgresql+asyncpg://app:Zk9wq2Lm@db.internal:5432/app",
        "jdbc:sqlserver://sql01:1433;databaseName=crm;user=sa;password=Cr4mApp19;encrypt=true",
        "postgres://app:P@ssw0rd@db:5432/x",
        "amqps://svc:Pq7Xr2Wk@rabbit.internal:5671/%2F",
        "clickhouse://etl:Zk9wq2Lm@ch.internal:9000/default",
    ] {
        assert_one(&format!("url: {url}"), EntityKind::ConnectionString, url);
    }
    assert_none("https://api.acme.dev/login?next=/home&lang=en");
    assert_none("jdbc:postgresql://db.internal:5432/ledger");
    // web URLs with a password parameter: the password, not the URL
    assert_one(
        "GET https://portal.acme.dev/login?user=bob&password=Hunter2go HTTP/1.1",
        EntityKind::Password,
        "Hunter2go",
    );
}

#[test]
fn non_ascii_offsets() {
    let text = "clé: ü 🔑 password=ñandú42 et AKIAIOSFODNN7EXAMPLE";
    let f = detect_secrets(text);
    assert_eq!(f.len(), 2);
    assert_eq!(&text[f[0].start..f[0].end], "ñandú42");
    assert_eq!(&text[f[1].start..f[1].end], "AKIAIOSFODNN7EXAMPLE");
}

#[test]
fn findings_do_not_overlap() {
    let text = format!(
        "token={JWT_OK} password=postgres://u:Zk9wq2Lm@db/x api_key=AIzaSyD3kPq8Xw2Lm9Rt5Vb7Nc1Zh4Jf6Gs0Ue8"
    );
    let f = detect_secrets(&text);
    for w in f.windows(2) {
        assert!(w[0].end <= w[1].start, "{f:?}");
    }
    let k: Vec<_> = f.iter().map(|f| f.kind).collect();
    assert_eq!(
        k,
        vec![
            EntityKind::Jwt,
            EntityKind::ConnectionString,
            EntityKind::GoogleApiKey
        ]
    );
}

#[test]
fn random_inputs_keep_invariants() {
    // Splice fragments that trigger every code path, including multi-byte characters, and
    // check that findings are in bounds, on character boundaries, sorted and disjoint.
    let pieces = [
        "password",
        "=",
        ": ",
        "\"",
        "'",
        "\\\"",
        " ",
        "\n",
        "token",
        "api_key",
        "Bearer ",
        "AKIA",
        "IOSFODNN7EXAMPLE",
        "ghp_",
        "sk-",
        "ant-",
        "proj-",
        "eyJ",
        ".",
        "-----BEGIN ",
        "PRIVATE KEY-----",
        "-----END ",
        "postgres://",
        "u:",
        "@",
        "db",
        "/x",
        "LS0tLS1CRUdJTi",
        "é",
        "ñ",
        "🔑",
        "中",
        "a8F3kL9qR2vX7mN4pT6wZ1cY",
        "$",
        "::",
        "<",
        "(",
        "curl -u ",
        "mysql -p",
        "login ",
        "Passwort",
        "contraseña",
        "hooks.slack.com/services/",
        "xoxb-",
        "AIza",
        "9",
    ];
    let mut x: u64 = 42;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    for _ in 0..3000 {
        let n = next() % 40;
        let text: String = (0..n).map(|_| pieces[next() % pieces.len()]).collect();
        let found = detect_secrets(&text);
        let mut prev_end = 0;
        for f in &found {
            assert!(f.start < f.end && f.end <= text.len(), "{text:?} {f:?}");
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            assert!(f.start >= prev_end, "overlap in {text:?}: {found:?}");
            prev_end = f.end;
        }
    }
}

#[test]
fn huge_inputs_run() {
    use std::time::Instant;
    let t = Instant::now();
    // 512 KiB dense with near-candidates, one real key at the very end: a quadratic step
    // would take minutes here
    let chunk = "token=a password: x api_key sk- eyJ -----BEGIN PRIVATE KEY----- AKIA ghp_ é ";
    let mut big = chunk.repeat(512 * 1024 / chunk.len());
    big.push_str("AKIAIOSFODNN7EXAMPLE");
    assert_eq!(
        kinds(&big),
        vec![(EntityKind::AwsAccessKey, "AKIAIOSFODNN7EXAMPLE".to_string())]
    );
    // huge single values / unterminated constructs
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let run: String = (0..128 * 1024)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            alphabet[(x >> 33) as usize % alphabet.len()] as char
        })
        .collect();
    assert_eq!(
        detect_secrets(&format!("api_key=\"{}\"", &run[..64])).len(),
        1
    );
    assert!(detect_secrets(&format!("api_key=\"{run}\" {run}")).is_empty());
    assert!(detect_secrets(&format!("eyJ{run}.{run}.{run}")).is_empty());
    assert!(detect_secrets(&"-----BEGIN PRIVATE KEY-----\n".repeat(8_000)).is_empty());
    assert!(detect_secrets(&"postgres://a:".repeat(16_000)).is_empty());
    assert!(detect_secrets(&"password=".repeat(20_000)).is_empty());
    assert!(detect_secrets(&"mysql -u root -p ".repeat(20_000)).is_empty());
    assert!(detect_secrets(&"curl -u ".repeat(20_000)).is_empty());
    // debug builds are slow; this guards against super-linear blow-ups, not speed
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
}
