//! Config files for tests, built as typed edits of a TOML document instead of format strings
//! and `str::replace`: each edit says what it changes and fails the test when the place it
//! names does not exist (a typo in a test cannot silently test the default instead).

use toml_edit::{DocumentMut, Item, Table, value};

use crate::Sim;

/// A config under construction, against one `sim`.
#[derive(Debug, Clone)]
pub struct Fixture {
    doc: DocumentMut,
    urls: sessionkeeper_sim::Urls,
}

impl Fixture {
    /// An empty config for `sim`'s services.
    pub fn new(sim: &Sim) -> Self {
        Self {
            doc: DocumentMut::new(),
            urls: sim.urls(),
        }
    }

    /// sim's URLs, to build values from.
    pub fn urls(&self) -> &sessionkeeper_sim::Urls {
        &self.urls
    }

    /// `[accounts.github]` and `[accounts.vercel]` on sim's fakes.
    pub fn accounts(mut self) -> Self {
        for (name, kind, url) in [
            ("github", "github", self.urls.github_api.clone()),
            ("vercel", "vercel", self.urls.vercel_api.clone()),
        ] {
            let t = self.table(&["accounts", name]);
            t["kind"] = value(kind);
            t["api_url"] = value(url);
        }
        self
    }

    /// A cookie profile `id` on sim's SSO and API: done at the portal with `JSESSIONID`,
    /// pre-filled, validated against `/api/products` with short timeouts.
    pub fn cookie_profile(mut self, id: &str, name: &str) -> Self {
        let u = self.urls.clone();
        let p = self.table(&["profiles", id]);
        p["name"] = value(name);
        p["login_url"] = value(&u.sso_login);
        p["capture"] = value("cookies");
        p["cookie_urls"] = value(toml_edit::Array::from_iter([format!("{}/", u.api_origin)]));
        let mut done = toml_edit::InlineTable::new();
        done.insert("url_prefix", u.portal.as_str().into());
        done.insert(
            "cookies",
            toml_edit::Array::from_iter(["JSESSIONID"]).into(),
        );
        p["done_when"] = value(done);
        p["session_id_cookie"] = value("JSESSIONID");
        let mut prefill = toml_edit::InlineTable::new();
        prefill.insert("username", "#username".into());
        prefill.insert("password", "#password".into());
        p["prefill"] = value(prefill);
        let v = self.table(&["profiles", id, "validate"]);
        v["url"] = value(&u.products);
        v["invalid_redirect_prefix"] = value(format!("{}/sso/", u.sso_origin));
        v["timeout"] = value("2s");
        v["attempts"] = value(1);
        self
    }

    /// A token profile `id` on sim's token provider (`redirect-param` with `apisession`).
    pub fn token_profile(mut self, id: &str, name: &str) -> Self {
        let u = self.urls.clone();
        let p = self.table(&["profiles", id]);
        p["name"] = value(name);
        p["login_url"] = value(format!("{}demo-key", u.token_login));
        p["capture"] = value("redirect-param");
        p["redirect_param"] = value("apisession");
        let mut done = toml_edit::InlineTable::new();
        done.insert("url_prefix", u.token_callback.as_str().into());
        p["done_when"] = value(done);
        let v = self.table(&["profiles", id, "validate"]);
        v["url"] = value(&u.products);
        v["token_header"] = value("X-SessionToken");
        v["timeout"] = value("2s");
        v["attempts"] = value(1);
        self
    }

    /// `[profiles.ID.refresh]`: a login without a human at sim's `/auth/login` (JSON, the
    /// keychain's username and password), capturing the token it answers.
    pub fn refresh(mut self, id: &str) -> Self {
        let api = self.urls.api_origin.clone();
        assert!(
            self.existing(&["profiles", id]).is_some(),
            "fixture: no profile {id} to refresh"
        );
        let t = self.table(&["profiles", id, "refresh"]);
        t["url"] = value(format!("{api}/auth/login"));
        t["format"] = value("json");
        let mut fields = toml_edit::InlineTable::new();
        fields.insert("username", "{username}".into());
        fields.insert("password", "{password}".into());
        t["fields"] = value(fields);
        t["capture"] = value("json:Success.session_token");
        self
    }

    /// A push of `id` to sim's GitHub repository secret `secret`.
    pub fn push_github(mut self, id: &str, secret: &str) -> Self {
        let t = self.push_table(id);
        t["to"] = value("github");
        t["repo"] = value("acme/circletel");
        t["secret"] = value(secret);
        self
    }

    /// A push of `id` to sim's Vercel env var `env`, redeployed.
    pub fn push_vercel(mut self, id: &str, env: &str) -> Self {
        let t = self.push_table(id);
        t["to"] = value("vercel");
        t["project"] = value("circletel");
        t["env"] = value(env);
        t["redeploy"] = value(true);
        self
    }

    /// Sets `key` in the table at `path` (which must exist) to `to`.
    #[track_caller]
    pub fn set(mut self, path: &[&str], key: &str, to: impl Into<toml_edit::Value>) -> Self {
        let table = self
            .existing(path)
            .unwrap_or_else(|| panic!("fixture: no table {path:?} to set {key} in"));
        table[key] = Item::Value(to.into());
        self
    }

    /// The config's text.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    fn existing(&mut self, path: &[&str]) -> Option<&mut Table> {
        let mut table = self.doc.as_table_mut();
        for part in path {
            table = table.get_mut(part)?.as_table_mut()?;
        }
        Some(table)
    }

    /// The table at `path`, made (and its parents, implicitly) if missing.
    fn table(&mut self, path: &[&str]) -> &mut Table {
        let mut table = self.doc.as_table_mut();
        for (i, part) in path.iter().enumerate() {
            let entry = table.entry(part).or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(i + 1 < path.len());
                Item::Table(t)
            });
            table = entry.as_table_mut().expect("fixture: a table");
        }
        table
    }

    fn push_table(&mut self, id: &str) -> &mut Table {
        let profile = self
            .existing(&["profiles", id])
            .unwrap_or_else(|| panic!("fixture: no profile {id} to push from"));
        let targets = profile
            .entry("push")
            .or_insert_with(|| Item::ArrayOfTables(toml_edit::ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .expect("fixture: push is an array of tables");
        targets.push(Table::new());
        targets.iter_mut().last().expect("just pushed")
    }
}
