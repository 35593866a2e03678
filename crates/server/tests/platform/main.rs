//! Tests across the contexts: the API's conventions, the tenant boundary, the pages and
//! the demo studio.

#[path = "../common/mod.rs"]
mod common;

mod api_conventions;
mod demo;
mod fields_page;
mod finance_pages;
mod frames;
mod grid;
mod market_pages;
mod media_page;
mod my_tasks;
mod orders_pages;
mod overview;
mod page_roles;
mod pages;
mod review_pages;
mod roles;
mod shot_page;
mod talent_pages;
mod task_page;
mod tenant_isolation;
mod times;
mod words;
mod workflow;
