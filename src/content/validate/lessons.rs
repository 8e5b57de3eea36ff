//! Slides: their texts, tables and the figures the maths checks.

use super::{MAX_DIMENSION, MAX_ITEMS, MAX_PARAMS, Validator, derived};
use crate::content::schema::*;

impl Validator {
    pub(super) fn slide(&mut self, path: &str, slide: &Slide) {
        self.id(&format!("{path}.id"), &slide.id);
        self.text(&format!("{path}.title"), &slide.title);
        self.opt_text(&format!("{path}.notes"), &slide.notes);
        if slide.body.len() > MAX_ITEMS {
            self.issue(&format!("{path}.body"), format!("more than {MAX_ITEMS} blocks"));
        }
        for (i, block) in slide.body.iter().enumerate() {
            self.block(&format!("{path}.body[{i}]"), block);
        }
    }

    fn block(&mut self, path: &str, block: &Block) {
        match block {
            Block::Paragraph(text) => self.text(path, text),
            Block::Bullets(items) => {
                if items.is_empty() {
                    self.issue(path, "empty bullet list");
                }
                self.texts(path, items);
            }
            Block::Formula(formula) => {
                if formula.text.trim().is_empty() {
                    self.issue(&format!("{path}.text"), "empty formula");
                }
                self.opt_text(&format!("{path}.caption"), &formula.caption);
            }
            Block::Callout(callout) => self.text(&format!("{path}.text"), &callout.text),
            Block::Matrix(figure) => {
                self.matrix(&format!("{path}.matrix"), &figure.matrix);
                self.opt_text(&format!("{path}.caption"), &figure.caption);
            }
            Block::Factorization(figure) => {
                self.opt_text(&format!("{path}.caption"), &figure.caption);
                let ok = self.matrix(&format!("{path}.product"), &figure.product)
                    & self.matrix(&format!("{path}.left"), &figure.left)
                    & self.matrix(&format!("{path}.right"), &figure.right);
                if ok {
                    self.derived(path, derived::check_figure_product(figure));
                }
            }
            Block::Table(table) => {
                self.opt_text(&format!("{path}.caption"), &table.caption);
                if table.header.is_empty() {
                    self.issue(&format!("{path}.header"), "a table needs a header");
                }
                self.texts(&format!("{path}.header"), &table.header);
                for (i, row) in table.rows.iter().enumerate() {
                    let row_path = format!("{path}.rows[{i}]");
                    if row.len() != table.header.len() {
                        self.issue(
                            &row_path,
                            format!("row has {} cells, the header has {}", row.len(), table.header.len()),
                        );
                    }
                    self.texts(&row_path, row);
                }
            }
            Block::TrainableShare(figure) => {
                self.opt_text(&format!("{path}.caption"), &figure.caption);
                let before = self.issues.len();
                self.model_shape(&format!("{path}.model"), &figure.model);
                if figure.rows.is_empty() {
                    self.issue(&format!("{path}.rows"), "no configuration to show");
                }
                if self.issues.len() == before {
                    for (i, row) in figure.rows.iter().enumerate() {
                        let row_path = format!("{path}.rows[{i}]");
                        if row.rank == 0 || row.rank > MAX_DIMENSION || row.targets.is_empty() {
                            self.issue(&row_path, "rank must be ≥ 1 and targets non-empty");
                            continue;
                        }
                        if !row.percent.is_finite() {
                            self.issue(&format!("{row_path}.percent"), "not a finite number");
                            continue;
                        }
                        self.derived(&row_path, derived::check_share_row(figure, row));
                    }
                    self.derived(&format!("{path}.total_params"), derived::check_total_params(figure));
                }
            }
            // Computed by the maths at every setting: nothing in the file to check.
            Block::Explore(_) => {}
            Block::Memory(figure) => {
                self.opt_text(&format!("{path}.caption"), &figure.caption);
                if figure.params == 0 || figure.params > MAX_PARAMS {
                    self.issue(&format!("{path}.params"), format!("params must be between 1 and {MAX_PARAMS}"));
                    return;
                }
                for (i, row) in figure.rows.iter().enumerate() {
                    let row_path = format!("{path}.rows[{i}].gb");
                    if self.number(&row_path, row.gb) {
                        self.derived(&row_path, derived::check_memory_figure_gb(figure.params, row.precision, row.gb));
                    }
                }
            }
        }
    }

    fn model_shape(&mut self, path: &str, shape: &ModelShape) {
        if shape.name.trim().is_empty() {
            self.issue(&format!("{path}.name"), "empty model name");
        }
        let dims = [
            ("vocab", shape.vocab),
            ("hidden", shape.hidden),
            ("intermediate", shape.intermediate),
            ("layers", shape.layers),
            ("heads", shape.heads),
            ("kv_heads", shape.kv_heads),
            ("head_dim", shape.head_dim),
        ];
        for (name, value) in dims {
            if value == 0 || value > MAX_DIMENSION {
                self.issue(&format!("{path}.{name}"), format!("must be between 1 and {MAX_DIMENSION}"));
            }
        }
        if shape.kv_heads > shape.heads || (shape.kv_heads != 0 && !shape.heads.is_multiple_of(shape.kv_heads)) {
            self.issue(&format!("{path}.kv_heads"), "heads must be a multiple of kv_heads");
        }
    }
}
