//! Result columns with the same name. PostgreSQL returns them as written
//! (`SELECT 1, 1` gives two columns named `?column?`, `SELECT a, a FROM t`
//! two named `a`); DataFusion refuses a projection whose expressions share
//! a name. [`with_unique_names`] gives every select item of the query's
//! top-level `SELECT`s (each branch of a set operation) an alias unique in
//! its list, PostgreSQL's name where it is free and `name_2`, `name_3`, …
//! otherwise. The client still sees PostgreSQL's names: they are taken from
//! the statement as written (see `server::names`).

use std::collections::HashSet;

use datafusion::sql::sqlparser::ast::{Ident, Query, SelectItem, SetExpr, Statement};

use crate::server::names::item_name;

/// `statement` with unique aliases on its result columns; `None` when it is
/// not a query or no item needed one.
pub fn with_unique_names(statement: &Statement) -> Option<Statement> {
    let Statement::Query(q) = statement else {
        return None;
    };
    let mut q: Query = (**q).clone();
    in_body(&mut q.body).then(|| Statement::Query(Box::new(q)))
}

fn in_body(body: &mut SetExpr) -> bool {
    match body {
        SetExpr::Select(select) => {
            let names: Vec<Option<String>> = select.projection.iter().map(item_name).collect();
            let mut used: HashSet<String> = HashSet::new();
            let mut changed = false;
            for (item, name) in select.projection.iter_mut().zip(names) {
                let Some(name) = name else { continue };
                let mut unique = name.clone();
                let mut n = 1;
                while !used.insert(unique.clone()) {
                    n += 1;
                    unique = format!("{name}_{n}");
                }
                let alias = Ident::with_quote('"', unique);
                match item {
                    SelectItem::UnnamedExpr(e) => {
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias,
                        };
                        changed = true;
                    }
                    SelectItem::ExprWithAlias { alias: a, .. } if n > 1 => {
                        *a = alias;
                        changed = true;
                    }
                    _ => {}
                }
            }
            changed
        }
        SetExpr::SetOperation { left, right, .. } => {
            let l = in_body(left);
            in_body(right) || l
        }
        SetExpr::Query(q) => in_body(&mut q.body),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn unique(sql: &str) -> String {
        let st = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        with_unique_names(&st).unwrap().to_string()
    }

    #[test]
    fn repeated_names_get_numbered_aliases() {
        assert_eq!(
            unique("SELECT 1, 1, a, t.a, 2 AS x, 3 AS X"),
            "SELECT 1 AS \"?column?\", 1 AS \"?column?_2\", a AS \"a\", t.a AS \"a_2\", 2 AS x, 3 AS \"x_2\""
        );
        assert_eq!(
            unique("SELECT a, a FROM t UNION ALL SELECT b, b FROM u"),
            "SELECT a AS \"a\", a AS \"a_2\" FROM t UNION ALL SELECT b AS \"b\", b AS \"b_2\" FROM u"
        );
    }
}
