//! The grids a player fills in, and moving around and typing in them.

use nalgebra::DMatrix;

use super::{PuzzleRun, ZERO_CODE};
use crate::content::Matrix;
use crate::content::answer::shown;

/// What a grid's cells hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridKind {
    /// Typed decimal numbers.
    Numbers,
    /// NF4 code indices 0..=15, moved up and down the ladder.
    Codes,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub editable: bool,
}

impl Cell {
    fn blank() -> Cell {
        Cell { text: String::new(), editable: true }
    }

    pub fn value(&self) -> Option<f64> {
        parse_number(&self.text)
    }
}

/// A matrix (or vector, or single number) the player fills in.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub label: String,
    pub rows: usize,
    pub cols: usize,
    pub kind: GridKind,
    pub cells: Vec<Cell>,
}

impl Grid {
    pub(super) fn blank(label: &str, rows: usize, cols: usize, kind: GridKind) -> Grid {
        Grid { label: label.to_owned(), rows, cols, kind, cells: vec![Cell::blank(); rows * cols] }
    }

    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        &self.cells[row * self.cols + col]
    }

    /// The number in a cell; `None` while it holds none, or outside the grid.
    pub fn value(&self, row: usize, col: usize) -> Option<f64> {
        (row < self.rows && col < self.cols).then(|| self.cell(row, col).value()).flatten()
    }

    /// Every cell's number, row-major, once all hold one.
    pub fn values(&self) -> Option<Vec<f64>> {
        self.cells.iter().map(Cell::value).collect()
    }

    /// The grid as a level matrix, once every cell holds a number.
    pub fn matrix(&self) -> Option<Matrix> {
        let values = self.values()?;
        Some(Matrix(values.chunks(self.cols.max(1)).map(<[f64]>::to_vec).collect()))
    }

    /// The grid as a matrix, empty cells read as 0 (for the live preview).
    pub fn matrix_or_zero(&self) -> DMatrix<f64> {
        DMatrix::from_fn(self.rows, self.cols, |r, c| self.value(r, c).unwrap_or(0.0))
    }

    pub fn is_complete(&self) -> bool {
        self.cells.iter().all(|c| c.value().is_some())
    }

    /// Writes `values` (row-major) into the editable cells, as the game shows numbers.
    pub(super) fn fill_editable(&mut self, values: &[f64]) {
        for (cell, value) in self.cells.iter_mut().zip(values) {
            if cell.editable {
                cell.text = shown(*value);
            }
        }
    }

    /// Writes a level matrix into the grid, as far as it fits.
    pub(super) fn fill(&mut self, m: &Matrix) {
        for r in 0..self.rows.min(m.rows()) {
            for c in 0..self.cols.min(m.cols()) {
                self.cells[r * self.cols + c].text = shown(m.0[r][c]);
            }
        }
    }

    /// Resizes keeping the cells that still fit (for changing the rank of a factorization).
    pub(super) fn resize(&mut self, rows: usize, cols: usize) {
        let mut cells = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                let keep = (r < self.rows && c < self.cols).then(|| self.cell(r, c).clone());
                cells.push(keep.unwrap_or_else(Cell::blank));
            }
        }
        self.rows = rows;
        self.cols = cols;
        self.cells = cells;
    }
}

/// Where the keyboard cursor is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub grid: usize,
    pub row: usize,
    pub col: usize,
}

/// Parses what a player typed: "", "-" and "." are not numbers yet.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t == "-" || t == "." || t == "-." {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Moving the cursor and typing: every edit clears the "not yet" of a wrong submission.
impl PuzzleRun {
    pub(super) fn first_editable(&self, grid: usize) -> Option<Cursor> {
        let g = self.inputs.get(grid)?;
        let i = g.cells.iter().position(|c| c.editable)?;
        Some(Cursor { grid, row: i / g.cols, col: i % g.cols })
    }

    /// Every editable cell, grid by grid in reading order.
    pub fn editable_cells(&self) -> Vec<Cursor> {
        let mut cells = Vec::new();
        for (grid, g) in self.inputs.iter().enumerate() {
            for (i, cell) in g.cells.iter().enumerate() {
                if cell.editable {
                    cells.push(Cursor { grid, row: i / g.cols, col: i % g.cols });
                }
            }
        }
        cells
    }

    /// Moves the cursor by (d_row, d_col), from editable cell to editable cell: ◀ ▶ to the
    /// previous / next one in reading order (across rows), ▲ ▼ to the nearest one in the
    /// closest row above / below. Shown cells are stepped over, never stopped at.
    pub fn move_cursor(&mut self, d_row: i32, d_col: i32) {
        let here = self.cursor;
        let in_grid: Vec<Cursor> = self.editable_cells().into_iter().filter(|c| c.grid == here.grid).collect();
        let key = |c: &Cursor| (c.row, c.col);
        let target = if d_row == 0 {
            match d_col.signum() {
                1 => in_grid.iter().find(|c| key(c) > key(&here)),
                -1 => in_grid.iter().rev().find(|c| key(c) < key(&here)),
                _ => None,
            }
        } else {
            let rows_ahead = in_grid.iter().filter(|c| (c.row as i32 - here.row as i32).signum() == d_row.signum());
            let nearest_row = rows_ahead.clone().map(|c| c.row.abs_diff(here.row)).min();
            rows_ahead
                .filter(|c| Some(c.row.abs_diff(here.row)) == nearest_row)
                .min_by_key(|c| (c.col.abs_diff(here.col), c.col))
        };
        if let Some(&c) = target {
            self.cursor = c;
        }
    }

    /// TAB: the next editable cell in reading order, on into the next grid, round to the first.
    pub fn next_cell(&mut self) {
        let cells = self.editable_cells();
        let here = self.cursor;
        let order = |c: &Cursor| (c.grid, c.row, c.col);
        let next = cells.iter().find(|c| order(c) > order(&here)).or(cells.first());
        if let Some(&c) = next {
            self.cursor = c;
        }
    }

    /// Clicks a cell.
    pub fn select(&mut self, grid: usize, row: usize, col: usize) {
        if let Some(g) = self.inputs.get(grid)
            && row < g.rows
            && col < g.cols
            && g.cell(row, col).editable
        {
            self.cursor = Cursor { grid, row, col };
        }
    }

    /// The cell under the cursor, if it is one of `kind` and may be edited now.
    fn cell_to_edit(&mut self, kind: GridKind) -> Option<&mut Cell> {
        if !self.is_playing() {
            return None;
        }
        let Cursor { grid, row, col } = self.cursor;
        let g = self.inputs.get_mut(grid).filter(|g| g.kind == kind)?;
        if row >= g.rows || col >= g.cols {
            return None;
        }
        let cols = g.cols;
        let cell = &mut g.cells[row * cols + col];
        cell.editable.then_some(cell)
    }

    /// Types one character (digit, '.', '-') into the selected number cell.
    pub fn type_char(&mut self, ch: char) {
        let Some(cell) = self.cell_to_edit(GridKind::Numbers) else {
            return;
        };
        match ch {
            '0'..='9' if cell.text.len() < 12 => cell.text.push(ch),
            '.' | ',' if !cell.text.contains('.') => cell.text.push('.'),
            // '-' toggles the sign wherever the caret is.
            '-' => match cell.text.strip_prefix('-') {
                Some(rest) => cell.text = rest.to_owned(),
                None => cell.text.insert(0, '-'),
            },
            _ => return,
        }
        self.edited();
    }

    pub fn backspace(&mut self) {
        if let Some(cell) = self.cell_to_edit(GridKind::Numbers) {
            cell.text.pop();
            self.edited();
        }
    }

    /// Moves the selected NF4 code one rung up (+1) or down (−1) the ladder.
    pub fn step_code(&mut self, delta: i32) {
        if let Some(cell) = self.cell_to_edit(GridKind::Codes) {
            let code = cell.text.parse::<i32>().unwrap_or(i32::from(ZERO_CODE));
            cell.text = (code + delta).clamp(0, 15).to_string();
            self.edited();
        }
    }

    /// Sets the selected NF4 code (clicking a ladder rung).
    pub fn set_code(&mut self, code: u8) {
        if let Some(cell) = self.cell_to_edit(GridKind::Codes) {
            cell.text = code.min(15).to_string();
            self.edited();
        }
    }

    /// Picks choice `index` of a pick-one puzzle.
    pub fn choose(&mut self, index: usize) {
        if self.is_playing() && index < self.choices {
            self.chosen = Some(index);
            self.edited();
        }
    }
}
