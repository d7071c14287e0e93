//! Model training, prediction and evaluation functions.

pub mod argument_types;
pub mod common;
pub mod embedded;
pub mod ml_confusion_matrix;
pub mod ml_cross_validate;
pub mod ml_deploy;
pub mod ml_drop_model;
pub mod ml_evaluate;
pub mod ml_explain_predict;
pub mod ml_export_model;
pub mod ml_feature_importance;
pub mod ml_import_model;
pub mod ml_predict;
pub mod ml_principal_component_info;
pub mod ml_roc_curve;
pub mod ml_rollback;
pub mod ml_train;
pub mod ml_trial_info;
pub mod ml_tune;
pub mod ml_weights;
pub mod predict;
pub mod predict_proba;
