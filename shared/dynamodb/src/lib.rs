//! The DynamoDB store (work in progress: see the AWS issue).
